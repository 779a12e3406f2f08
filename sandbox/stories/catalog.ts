/**
 * The stories `kiln sandbox --scenario` knows, by name, without loading them: the CLI lists and
 * checks names at start-up, and loads the (heavier) story only when it runs.
 */
export const storyCatalog = {
  default:
    "Kiln's whole course: 1.1.0 pushed, baked once, staging rolls (checkpoints), the lead approves in Slack, production rolls blue/green; 1.2.0 turns bad and the alarm rolls production back; /kiln rollback restores staging; a scale-in drains through Kiln's hook",
  'instance-refresh': 'one group rolls with checkpoints at 25/50/100 %, min healthy 90 %, warmup 60 s',
  bake: 'an S3 artifact is baked into an available AMI, copied to us-west-2, the release recorded',
  'bake-cache':
    'the same artifact pushed twice and its event delivered twice: one bake, one builder; a re-run reuses the release',
  'bake-failure':
    'the install command fails: the deployment fails with the reason, builder terminated, no image left',
  'bake-timeout':
    'CreateImage outlasts the bake timeout: the re-run deployment adopts the finished image instead of baking again',
  rolling: 'two environments roll a healthy release; production after a bake and an approval (kiln approve)',
  'bad-release':
    'a release failing health checks, then one serving 5xx: each refresh is rolled back and the previous version recorded',
  'rollback-after-complete':
    'a release completes, then kiln rollback restores the exact previous launch template version and capacity',
  'concurrent-artifacts':
    'three releases within a minute: one rollout at a time, the newest wins, the middle one superseded',
  'blue-green':
    'web rolls from 1.0.0 to 2.0.0 blue/green: green made beside blue, health gate, traffic moved, blue retired at zero',
  'scale-during-switch':
    'a scale-out alarm fires during the blue/green switch: neither group resizes under it, then the scale-out reaches green only',
  'bad-release-blue-green':
    'a release serving 5xx on blue/green: the rollout alarm stops it during the watch, blue is restored and recorded',
  'alarm-rollback':
    'a release starts serving 5xx after it completed: its alarm fires in the watch window and on-alarm restores the previous release, once',
  drain:
    'a scale-in of 6 instances: each deregistered and drained (300 s delay, heartbeats) and stopped before Kiln completes its hook',
  'drain-storm':
    '1,000 instances terminate at once under AWS request rates: every hook completed by Kiln before its timeout, none lost',
  chatops:
    'Slack drives Kiln through POST /slack: an Approve button resumes a waiting promotion, a signed /kiln rollback by an allowed user restores the previous release; unsigned, unauthorized and replayed requests change nothing',
  'lost-events':
    '30 % of events lost and duplicates on, the fleet scaled, a rollout killed mid-way: the reconciler converges, nothing stuck',
} as const;

export type StoryName = keyof typeof storyCatalog;

export function isStoryName(name: string): name is StoryName {
  return Object.hasOwn(storyCatalog, name);
}
