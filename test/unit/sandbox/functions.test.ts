import { join } from 'node:path';
import { loadRoutes } from '../../../sandbox/core/routes';
import { sandboxFunctions } from '../../../sandbox/functions';

describe('sandbox function wiring', () => {
  it('has a factory for exactly the functions serverless.yml deploys', () => {
    const routes = loadRoutes(join(__dirname, '../../../serverless.yml'), { stage: 'sandbox' });
    expect(Object.keys(sandboxFunctions).sort()).toEqual(routes.functions.map((f) => f.functionName).sort());
  });
});
