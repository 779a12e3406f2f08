/**
 * Slack user-group memberships, for access lists that name a group (S…): Slack's request names
 * only the user, so Kiln asks Slack's Web API `usergroups.users.list` with the app's bot token
 * (scope `usergroups:read`; https://api.slack.com/methods/usergroups.users.list). Memberships are
 * kept for a minute per container, so a burst of button presses asks once. Without a bot token
 * there is no directory, and group entries grant nothing (shared/domain/chatops/authorize.ts).
 */
import type { UserGroupDirectory } from '../usecases/chatops/ports';

export type GetJson = (
  url: string,
  init: { headers: Record<string, string>; signal: AbortSignal },
) => Promise<unknown>;

const CACHE_MS = 60_000;

export class SlackUserGroups implements UserGroupDirectory {
  private readonly cache = new Map<string, { at: number; members: readonly string[] }>();

  constructor(
    private readonly botToken: string,
    private readonly now: () => number,
    private readonly getJson: GetJson = async (url, init) => (await fetch(url, init)).json(),
  ) {}

  async membersOf(groupId: string): Promise<readonly string[]> {
    const cached = this.cache.get(groupId);
    if (cached !== undefined && this.now() - cached.at < CACHE_MS) return cached.members;
    const body = (await this.getJson(
      `https://slack.com/api/usergroups.users.list?usergroup=${encodeURIComponent(groupId)}`,
      { headers: { authorization: `Bearer ${this.botToken}` }, signal: AbortSignal.timeout(2000) },
    )) as { ok?: unknown; users?: unknown; error?: unknown };
    if (body.ok !== true || !Array.isArray(body.users)) {
      throw new Error(`Slack did not list the members of ${groupId} (${String(body.error ?? 'no answer')})`);
    }
    const members = body.users.filter((u): u is string => typeof u === 'string');
    this.cache.set(groupId, { at: this.now(), members });
    return members;
  }
}
