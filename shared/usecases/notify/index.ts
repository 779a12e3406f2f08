/** The notifier (issue 11, item 5): `notify(notice, deps)` and its ports. Notices: shared/domain/notifications.ts. */
export {
  notify,
  KEEP_MS,
  NOTIFY_TIMEOUT_MS,
  type DestinationResult,
  type NotifyDeps,
  type NotifyLog,
  type NotifyOutcome,
  type NotifyStore,
  type SlackWebhookPort,
  type SnsPort,
} from './notify';
