import * as z from '../domain/zod';

const NonEmpty = z.string().check(z.minLength(1));

/**
 * The EventBridge envelope. AWS's documented samples carry placeholder times
 * ("yyyy-mm-ddThh:mm:ssZ"), and Kiln never relies on `time` for ordering, so it is only required
 * to be a string; the fields Kiln reads are checked strictly in each detail schema.
 */
export function eventBridgeEvent<D extends z.ZodMiniType, T extends string>(detailType: T, detail: D) {
  return z.object({
    version: z.string(),
    id: NonEmpty,
    'detail-type': z.literal(detailType),
    source: NonEmpty,
    account: z.string(),
    time: z.string(),
    region: NonEmpty,
    resources: z.array(z.string()),
    detail,
  });
}
