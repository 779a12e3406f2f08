/**
 * The port on-alarm tells people through when an alarm needs eyes but no action of Kiln's (the
 * "otherwise notify" of issue 11, item 3). Kiln's notifier (shared/usecases/notify/, issue 11
 * item 5) plugs in here; until it does, a notice is logged and audited, so it is on record and
 * `kiln audit` shows it. A notice never fails the alarm's handling: errors are logged and dropped.
 */
import type { KilnStore } from '../../store';
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
