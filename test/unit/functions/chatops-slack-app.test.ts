import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { parseServerlessDocument } from '../../../sandbox/core/routes';

/** slack/app-manifest.yml against what Kiln deploys and answers. */
const ROOT = join(__dirname, '../../..');

interface AppManifest {
  features: { slash_commands: Array<{ command: string; url: string }> };
  oauth_config: { scopes: { bot: string[] } };
  settings: { interactivity: { is_enabled: boolean; request_url: string } };
}

const app = () => parse(readFileSync(join(ROOT, 'slack/app-manifest.yml'), 'utf8')) as AppManifest;

describe("Kiln's Slack app manifest", () => {
  it('sends /kiln and the buttons to the HTTP API route chatops listens on', () => {
    const doc = parseServerlessDocument(readFileSync(join(ROOT, 'serverless.yml'), 'utf8')) as {
      functions: Record<string, { events?: Array<{ httpApi?: { method: string; path: string } }> }>;
    };
    const route = doc.functions.chatops?.events?.find((e) => e.httpApi !== undefined)?.httpApi;
    expect(route).toEqual({ method: 'POST', path: '/slack' });
    const manifest = app();
    expect(manifest.features.slash_commands.map((c) => [c.command, new URL(c.url).pathname])).toEqual([
      ['/kiln', '/slack'],
    ]);
    expect(manifest.settings.interactivity).toEqual({
      is_enabled: true,
      request_url: 'https://KILN_API/slack',
    });
  });

  it('asks only for the scopes Kiln uses: the command, and reading user groups', () => {
    expect(app().oauth_config.scopes.bot.sort()).toEqual(['commands', 'usergroups:read']);
  });
});
