// Fixed values the master shares with Mesos (src/master/constants.hpp).

/** The Mesos release whose wire behaviour Meseta follows; reported in MasterInfo and /version. */
export const MESOS_VERSION = '1.11.0';

export const HEARTBEAT_INTERVAL_MS = 15_000;
export const DEFAULT_REFUSE_SECONDS = 5;
export const MAX_REFUSE_SECONDS = 365 * 24 * 3600;

/** `MasterInfo.capabilities` Mesos 1.11 advertises. */
export const MASTER_CAPABILITIES = ['AGENT_UPDATE', 'AGENT_DRAINING', 'QUOTA_V2'];

/** The pid string Mesos puts in RunTaskMessage for HTTP frameworks: a default-constructed UPID. */
export const HTTP_FRAMEWORK_PID = '@0.0.0.0:0';
