/**
 * Whether the tunnel should run after the agent (re)starts. No `vscode` import (unit-tested).
 * An explicit Stop Sharing is remembered across window reloads: `autoStart` only resumes
 * routes the user has not stopped.
 */
export interface ResumeInputs {
  /** The user started the tunnel in this window (Share Port / Start) and has not stopped it. */
  wantRunning: boolean;
  /** The first agent start of this window (autoStart applies only then). */
  firstStart: boolean;
  autoStart: boolean;
  hasRoutes: boolean;
  configured: boolean;
  /** Stop Sharing was the user's last word, in this window or an earlier one. */
  stoppedByUser: boolean;
}

export function shouldRun(inputs: ResumeInputs): boolean {
  if (inputs.wantRunning) return true;
  return inputs.firstStart && inputs.autoStart && inputs.hasRoutes && inputs.configured && !inputs.stoppedByUser;
}

/** globalState key: true after Stop Sharing, cleared by Start / Share Port. */
export const STOPPED_BY_USER_KEY = 'portway.stoppedByUser';
