import { parseCommandText } from '../../../../shared/domain/chatops/commands';

describe('/kiln command text', () => {
  describe('reads', () => {
    it.each([
      ['', { name: 'help' }],
      ['help', { name: 'help' }],
      ['status', { name: 'status' }],
      ['status shop', { name: 'status', service: 'shop' }],
      ['  STATUS\u00a0shop ', { name: 'status', service: 'shop' }],
      ['history shop', { name: 'history', service: 'shop' }],
      [
        'deploy shop 2.0.0 production',
        { name: 'deploy', service: 'shop', version: '2.0.0', environment: 'production' },
      ],
      ['rollback shop production', { name: 'rollback', service: 'shop', environment: 'production' }],
      [
        'rollback shop production 1.0.0',
        { name: 'rollback', service: 'shop', environment: 'production', version: '1.0.0' },
      ],
      ['approve 01JABC', { name: 'approve', deploymentId: '01JABC' }],
      ['abort 01JABC', { name: 'abort', deploymentId: '01JABC' }],
    ])('%j', (text, command) => {
      expect(parseCommandText(text)).toEqual({ ok: true, command });
    });
  });

  describe('refuses, naming the word at fault', () => {
    it.each([
      ['launch shop', /unknown command "launch"/],
      ['history', /history: SERVICE missing/],
      ['deploy shop 2.0.0', /deploy: ENV missing/],
      ['deploy shop', /deploy: VERSION and ENV missing/],
      ['rollback shop production 1.0.0 extra', /rollback: too many words/],
      ['status shop#1', /status: SERVICE must not contain "#"/],
      ['approve <@U123>', /approve: DEPLOYMENT must be a plain name/],
      [`history ${'s'.repeat(201)}`, /history: SERVICE is longer than 200 characters/],
    ])('%j', (text, message) => {
      const parsed = parseCommandText(text);
      expect(parsed.ok).toBe(false);
      if (!parsed.ok) expect(parsed.message).toMatch(message);
    });
  });
});
