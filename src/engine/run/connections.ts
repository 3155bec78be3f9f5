import { StateConnection } from '../../store/state-connection.js';
import type { Connector, Session } from '../connector.js';

/** The connections one lane of a run works on. */
export interface LaneConnections {
  /** Streams the source. */
  source: Session;
  /** Reads by key in the scan's snapshot; two-way runs write the source on it. */
  sourceFetch: Session;
  target: Session;
  state: StateConnection;
  stateStream: StateConnection;
}

/** Every connection a run opens, so that all of them are closed at its end, whatever happened. */
export class RunConnections {
  private readonly opened: { close(): Promise<void> }[] = [];

  constructor(
    private readonly connectors: { source: Connector; target: Connector },
    private readonly stateUrl: string,
  ) {}

  private async track<T extends { close(): Promise<void> }>(opening: Promise<T>): Promise<T> {
    const session = await opening;
    this.opened.push(session);
    return session;
  }

  /**
   * Opens one lane's connections side by side: one after the other, they were a good part of a
   * short run. All settle before a failure is raised, so every opened connection gets closed.
   */
  async openLane(): Promise<LaneConnections> {
    // All five at once: the state connections need not wait for a source's handshake (an SSH one takes a few hundred ms).
    const [sessions, states] = await Promise.all([
      Promise.allSettled([this.track(this.connectors.source.open()), this.track(this.connectors.source.open()), this.track(this.connectors.target.open())]),
      Promise.allSettled([this.track(StateConnection.open(this.stateUrl)), this.track(StateConnection.open(this.stateUrl))]),
    ]);
    const refused = [...sessions, ...states].find((o) => o.status === 'rejected');
    if (refused) throw refused.reason;
    const [source, sourceFetch, target] = sessions.map((o) => (o as PromiseFulfilledResult<Session>).value);
    const [state, stateStream] = states.map((o) => (o as PromiseFulfilledResult<StateConnection>).value);
    return { source, sourceFetch, target, state, stateStream };
  }

  /** One more target session (a two-way lane streams the target while another writes it). */
  openTarget(): Promise<Session> {
    return this.track(this.connectors.target.open());
  }

  /** Tells the connectors the run committed everything (files sources record and move their files). */
  async finishRun(runId: string): Promise<void> {
    await this.connectors.source.finishRun?.({ runId });
    await this.connectors.target.finishRun?.({ runId });
  }

  /** Closes every connection opened so far (each once: a second call closes what was opened since). */
  async closeAll(): Promise<void> {
    await Promise.all(this.opened.splice(0).map((session) => session.close().catch(() => {})));
  }
}
