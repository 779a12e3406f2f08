/**
 * The words of `/kiln`: what a person typed after the command, read into one request or refused
 * with a message naming the word at fault. Pure: no store, no Slack.
 */

export type ChatCommand =
  | { name: 'help' }
  | { name: 'status'; service?: string }
  | { name: 'history'; service: string }
  | { name: 'deploy'; service: string; version: string; environment: string }
  | { name: 'rollback'; service: string; environment: string; version?: string }
  | { name: 'approve'; deploymentId: string }
  | { name: 'abort'; deploymentId: string };

export type CommandParse = { ok: true; command: ChatCommand } | { ok: false; message: string };

/** One line per command, as `/kiln help` and every parse error print them. */
export const COMMAND_USAGE = [
  '`/kiln status [SERVICE]` — environments, releases, locks and running deployments',
  '`/kiln history SERVICE` — recent deployments',
  '`/kiln deploy SERVICE VERSION ENV` — roll a baked release to an environment',
  '`/kiln rollback SERVICE ENV [VERSION]` — restore the previous (or a named earlier) release',
  '`/kiln approve DEPLOYMENT` — approve a deployment waiting before its next environment',
  '`/kiln abort DEPLOYMENT` — stop a deployment; the environment in progress gets its previous release back',
];

const ARITY: Record<Exclude<ChatCommand['name'], 'help'>, { min: number; max: number; words: string[] }> = {
  status: { min: 0, max: 1, words: ['SERVICE'] },
  history: { min: 1, max: 1, words: ['SERVICE'] },
  deploy: { min: 3, max: 3, words: ['SERVICE', 'VERSION', 'ENV'] },
  rollback: { min: 2, max: 3, words: ['SERVICE', 'ENV', 'VERSION'] },
  approve: { min: 1, max: 1, words: ['DEPLOYMENT'] },
  abort: { min: 1, max: 1, words: ['DEPLOYMENT'] },
};

/** Names go into store keys: the store's own rule (shared/domain/limits.ts KeyName), checked here so chat can name the word. */
function badWord(word: string): string | undefined {
  if (word.length > 200) return 'is longer than 200 characters';
  if (word.includes('#')) return 'must not contain "#"';
  // Slack turns mentions and links into <…>; they are never a service, version or deployment.
  if (/[<>]/.test(word)) return 'must be a plain name, not a mention or link';
  return undefined;
}

export function parseCommandText(text: string): CommandParse {
  // Slack sends what was typed; NBSPs and tabs from pasted text count as spaces.
  const words = text.split(/[\s\u00a0]+/).filter((word) => word.length > 0);
  const [verb, ...args] = words;
  if (verb === undefined || verb.toLowerCase() === 'help') return { ok: true, command: { name: 'help' } };
  const name = verb.toLowerCase();
  if (!Object.hasOwn(ARITY, name)) {
    return { ok: false, message: `unknown command "${clip(verb)}"; try:\n${COMMAND_USAGE.join('\n')}` };
  }
  const arity = ARITY[name as keyof typeof ARITY];
  const usage = COMMAND_USAGE.find((line) => line.startsWith(`\`/kiln ${name}`)) ?? '';
  if (args.length < arity.min || args.length > arity.max) {
    const missing = arity.words.slice(args.length, arity.min);
    const why = missing.length > 0 ? `${missing.join(' and ')} missing` : 'too many words';
    return { ok: false, message: `${name}: ${why}. Usage: ${usage}` };
  }
  for (const [index, word] of args.entries()) {
    const problem = badWord(word);
    if (problem !== undefined) return { ok: false, message: `${name}: ${arity.words[index]} ${problem}` };
  }
  const [a, b, c] = args as [string, string, string];
  switch (name) {
    case 'status':
      return { ok: true, command: a === undefined ? { name } : { name, service: a } };
    case 'history':
      return { ok: true, command: { name, service: a } };
    case 'deploy':
      return { ok: true, command: { name, service: a, version: b, environment: c } };
    case 'rollback':
      return {
        ok: true,
        command:
          c === undefined
            ? { name, service: a, environment: b }
            : { name, service: a, environment: b, version: c },
      };
    default:
      return { ok: true, command: { name: name as 'approve' | 'abort', deploymentId: a } };
  }
}

function clip(word: string): string {
  return word.length > 40 ? `${word.slice(0, 40)}…` : word;
}
