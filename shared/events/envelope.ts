import { z } from 'zod';

/**
 * The EventBridge envelope. AWS's documented samples carry placeholder times
 * ("yyyy-mm-ddThh:mm:ssZ"), and Kiln never relies on `time` for ordering, so it is only required
 * to be a string; the fields Kiln reads are checked strictly in each detail schema.
 */
export function eventBridgeEvent<D extends z.ZodType, T extends string>(detailType: T, detail: D) {
  return z.object({
    version: z.string(),
    id: z.string().min(1),
    'detail-type': z.literal(detailType),
    source: z.string().min(1),
    account: z.string(),
    time: z.string(),
    region: z.string().min(1),
    resources: z.array(z.string()),
    detail,
  });
}
