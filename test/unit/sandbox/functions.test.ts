import { join } from 'node:path';
import { loadRoutes } from '../../../sandbox/core/routes';
import { sandboxFunctions } from '../../../sandbox/functions';

describe('sandbox function wiring', () => {
  it('has a factory for exactly the functions serverless.yml deploys', () => {
    const routes = loadRoutes(join(__dirname, '../../../serverless.yml'), { stage: 'sandbox' });
    expect(Object.keys(sandboxFunctions).sort()).toEqual(routes.functions.map((f) => f.functionName).sort());
  });
});

describe('story catalog', () => {
  it('names exactly the stories that can run, with their own descriptions', async () => {
    const { stories } = await import('../../../sandbox/stories');
    const { storyCatalog } = await import('../../../sandbox/stories/catalog');
    expect(Object.keys(stories).sort()).toEqual(Object.keys(storyCatalog).sort());
    for (const [name, story] of Object.entries(stories)) {
      expect(story.name).toBe(name);
      expect(story.description).toBe(storyCatalog[name as keyof typeof storyCatalog]);
    }
  });
});
