/**
 * The port on-alarm tells people through when an alarm needs eyes but no action of Kiln's (the
 * "otherwise notify" of issue 11, item 3). Kiln's notifier (shared/usecases/notify/, issue 11
 * item 5) plugs in here; until it does, a notice is logged and audited, so it is on record and
 * `kiln audit` shows it. A notice never fails the alarm's handling: errors are logged and dropped.
 */
import { alarmNotice } from '../../domain/notifications';
import type { ServiceManifest } from '../../domain/manifest/schema';
import type { KilnStore } from '../../store';
import type { NotifyDeps } from '../notify';
import { auditTarget } from '../../store/schemas';

export interface AlarmNotice {
  service: string;
  environment: string;
  alarmName: string;
  kind: 'metric' | 'composite';
  /** The alarm's state change (epoch ms). */
  at: number;
  /** Why Kiln did nothing more (shared/domain/alarms.ts decideAlarm). */
  reason: string;
}

export interface AlarmNotices {
  alarmNotice(notice: AlarmNotice): Promise<void>;
}

interface NoticeLogger {
  info(message: string, facts: Record<string, unknown>): void;
  error(message: string, facts: Record<string, unknown>): void;
}

/** Logs and audits (`alarm.notice`, actor `alarm:<name>`, target the environment). */
export function loggedAlarmNotices(deps: {
  store: Pick<KilnStore, 'audit'>;
  logger: NoticeLogger;
}): AlarmNotices {
  return {
    async alarmNotice(notice) {
      deps.logger.info('alarm notice', { ...notice });
      try {
        await deps.store.audit({
          actor: `alarm:${notice.alarmName}`,
          action: 'alarm.notice',
          target: auditTarget.environment(notice.service, notice.environment),
          service: notice.service,
          after: { alarm: notice.alarmName, kind: notice.kind, at: new Date(notice.at).toISOString() },
          reason: notice.reason,
        });
      } catch (error) {
        deps.logger.error('could not record the alarm notice', { ...notice, error: String(error) });
      }
    },
  };
}

/**
 * The notices as people get them: logged and audited as above, then sent through Kiln's notifier
 * (shared/usecases/notify) to the service manifest's `notifications` destinations, once per alarm
 * and state change. `destinations` is built on first use, so a function whose alarms never need
 * a notice never loads the SSM and SNS clients (on-alarm's cold start; README, Measurements).
 * Never throws: a notice that cannot be sent is the notifier's to log and audit.
 */
export function notifyingAlarmNotices(deps: {
  store: Pick<KilnStore<ServiceManifest>, 'audit' | 'getService' | 'claim' | 'settleClaim'>;
  logger: NoticeLogger;
  destinations: () => Promise<Pick<NotifyDeps, 'slack' | 'sns'>>;
  now: () => number;
  /** Holds the notification's claim: the Lambda request id, so one of two deliveries sends. */
  holder: string;
}): AlarmNotices {
  const logged = loggedAlarmNotices(deps);
  return {
    async alarmNotice(notice) {
      await logged.alarmNotice(notice);
      try {
        const service = await deps.store.getService(notice.service);
        const to = service?.manifest.notifications;
        if (to === undefined || (to.slackWebhookParameter === undefined && to.snsTopicArn === undefined))
          return;
        const { notify } = await import('../notify');
        await notify(
          alarmNotice({
            service: notice.service,
            environment: notice.environment,
            name: notice.alarmName,
            state: 'ALARM',
            at: notice.at,
            reason: notice.reason,
            to,
          }),
          {
            store: deps.store,
            ...(await deps.destinations()),
            now: deps.now,
            actor: `alarm:${notice.alarmName}`,
            holder: deps.holder,
            log: {
              info: (message, facts) => deps.logger.info(message, facts),
              warn: (message, facts) => deps.logger.error(message, facts),
            },
          },
        );
      } catch (error) {
        deps.logger.error('could not send the alarm notice', { ...notice, error: String(error) });
      }
    },
  };
}
