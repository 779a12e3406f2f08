/**
 * What the differential (moto vs simulator) tests share: a call's outcome as data, so the same
 * call against moto and against the simulator can be compared with one `toEqual`, and a running
 * instance the simulated ELB can register where the test stands in for EC2.
 */
import { SANDBOX_EPOCH } from '../../../sandbox/core/testing';
import type { SimInstance } from '../../../sandbox/services/fleet';

export type Outcome =
  { ok: true; value: Record<string, unknown> } | { ok: false; name: string; message: string };

/** The call's output without `$metadata`, or its error's name and message. */
export async function outcome(call: () => Promise<object>): Promise<Outcome> {
  try {
    const value = { ...(await call()) } as Record<string, unknown>;
    delete value.$metadata;
    return { ok: true, value };
  } catch (error) {
    if (error instanceof Error) return { ok: false, name: error.name, message: error.message };
    throw error;
  }
}

/** A running instance the sim's ELB can register (the test stands in for EC2). */
export function runningInstance(instanceId: string): SimInstance {
  return {
    instanceId,
    imageId: 'ami-12c6146b',
    instanceType: 't3.micro',
    state: 'running',
    availabilityZone: 'us-east-1a',
    subnetId: 'subnet-0123456789abcdef0',
    privateIpAddress: '10.0.0.10',
    launchTime: SANDBOX_EPOCH,
    runningSince: SANDBOX_EPOCH,
    tags: {},
  };
}
