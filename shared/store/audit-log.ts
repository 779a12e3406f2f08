import { ID_PATTERN, type IdSource } from '../runtime/ids';
import { parseOrThrow } from '../runtime/validation';
import { canonical, defined, field, fromItem, type Item, type StoreCore } from './core';
import { AuditMissingError } from './errors';
import { KeyName, PK, SK, keys, partitions } from './keys';
import { AuditEntry, AuditInput, type Page, type PageRequest } from './schemas';

/**
 * Keys tried for one entry: the first, then one with a freshly drawn writer id after each
 * collision with another writer (which only a repeated writer id can cause).
 */
const AUDIT_KEY_ATTEMPTS = 5;

/**
 * The audit log: one item per entry, keyed `<at>#<writer>#<seq>` under its target (key design in
 * ./keys.ts), so concurrent writers in one millisecond never share a key.
 *
 * Writing an entry is a second single-item write after the change (no transactions), and its
 * outcome is reported apart from the change's: a change whose entry cannot be written still
 * returns its result, inside an AuditMissingError.
 */
export class AuditLog {
  /** Drawn on the first write, so a store that only reads draws nothing from the id source. */
  private writer: string | undefined;
  private seq = 0;

  constructor(
    private readonly core: StoreCore,
    private readonly ids: IdSource,
  ) {}

  /**
   * `<writer>#<seq>`: a token no other write of any writer carries. Audit keys end in one; a
   * deployment remembers the ones its steps were appended with, to recognise a re-sent append.
   */
  nextWrite(): string {
    this.writer ??= this.drawWriter();
    return keys.auditWrite(this.writer, this.seq++);
  }

  /** Appends a caller's own entry (a decision, an approval); AuditMissingError if it cannot be written. */
  async record(input: AuditInput): Promise<AuditEntry> {
    const entry = this.stamp(parseOrThrow(AuditInput, input, 'audit entry'));
    const failure = await this.write(entry);
    if (failure) {
      throw new AuditMissingError(
        `audit entry ${entry.action} on ${entry.target} was not written: ${failure.why}`,
        entry,
        undefined,
        { cause: failure.cause },
      );
    }
    return entry;
  }

  /**
   * Audits a change that has been made and returns its result, or throws AuditMissingError
   * carrying that result when the entry cannot be written: the change stands either way.
   */
  async change<T>(input: AuditInput, result: T): Promise<T> {
    const entry = this.stamp(parseOrThrow(AuditInput, input, 'audit entry'));
    const failure = await this.write(entry);
    if (failure) {
      throw new AuditMissingError(
        `${entry.action} on ${entry.target} was made, but its audit entry was not written: ${failure.why}`,
        entry,
        result,
        { cause: failure.cause },
      );
    }
    return result;
  }

  /** Entries about one target, or about everything a service owns; newest first. */
  async list(scope: { service: string } | { target: string }, page: PageRequest): Promise<Page<AuditEntry>> {
    const parse = (item: Item) => fromItem(AuditEntry, item, 'audit entry');
    if ('service' in scope) {
      const name = field('service', KeyName, scope.service);
      return this.core.queryPage({
        index: true,
        partition: partitions.auditByService(name),
        forward: false,
        page,
        parse,
      });
    }
    const target = field('target', AuditInput.shape.target, scope.target);
    return this.core.queryPage({
      index: false,
      partition: partitions.auditByTarget(target),
      forward: false,
      page,
      parse,
    });
  }

  private stamp(input: AuditInput): AuditEntry {
    return defined({ ...input, at: this.core.iso() });
  }

  /** Writes the entry under a key of its own; undefined when written, else why not. */
  private async write(entry: AuditEntry): Promise<{ why: string; cause: unknown } | undefined> {
    try {
      for (let attempt = 1; ; attempt++) {
        const write = this.nextWrite();
        const item = defined({
          ...keys.audit(entry.target, entry.at, write),
          ...(entry.service ? keys.auditIndex(entry.service, entry.at, entry.target, write) : {}),
          kind: 'audit',
          ...entry,
        });
        const created = await this.core.createItem(item);
        if (created.created) return undefined;
        // Only this writer's id is in the key, so the item there is most likely this very entry:
        // the SDK re-sends a write whose response was lost (a 5xx or a timeout; both are retried,
        // https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Programming.Errors.html),
        // and the write may have landed the first time. Then it is written, once.
        const stored = await this.core.getItem({ [PK]: String(item[PK]), [SK]: String(item[SK]) });
        if (stored !== undefined && canonical(stored) === canonical(item)) return undefined;
        // Another writer drew the same writer id: draw a new one and try a new key.
        if (attempt >= AUDIT_KEY_ATTEMPTS) {
          return {
            why: `every audit key it tried (${AUDIT_KEY_ATTEMPTS} writer ids) was taken by another writer`,
            cause: created.error,
          };
        }
        this.writer = this.drawWriter();
      }
    } catch (error) {
      return {
        why: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
        cause: error,
      };
    }
  }

  private drawWriter(): string {
    const id = this.ids.next();
    if (!ID_PATTERN.test(id)) {
      throw new Error(`the store's id source gave ${JSON.stringify(id)}, not 1–64 of [A-Za-z0-9_-]`);
    }
    return id;
  }
}
