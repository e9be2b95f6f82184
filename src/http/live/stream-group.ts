import type { DocumentNode, ExecutionResult } from 'graphql';
import { isTerminal, type Task } from '../../core/model.js';
import { mayFollow, type StreamCaller } from './caller.js';

/**
 * One `backgroundTaskUpdated` subscription as the hub shares it: subscribers with equal `key`
 * (caller, task, document, variables, operation name) get the same events.
 */
export interface StreamSpec {
  readonly key: string;
  readonly caller: StreamCaller;
  readonly taskId: string;
  /** The document's text (after a persisted operation's hash was resolved). */
  readonly query: string;
  readonly document: DocumentNode;
  readonly variables: Record<string, unknown> | null;
  readonly operationName: string | null;
}

/** One execution result, serialised once for every subscriber and transport. */
export interface SharedEvent {
  readonly result: ExecutionResult;
  /** `JSON.stringify(result)`: every transport frames these same bytes. */
  readonly json: string;
  /** After this event the subscription completes (the task reached a final state). */
  readonly final: boolean;
}

/** What a transport adapter hands the hub: where events go. Called in order, never after `complete`. */
export interface Subscriber {
  next(event: SharedEvent): void;
  complete(): void;
}

/** What a group needs from the rest of the gateway. */
export interface GroupDeps {
  /** The task as the store has it for the caller's tenant; `mayFollow` still decides. */
  readonly readTask: (caller: StreamCaller, taskId: string) => Promise<Task | null>;
  readonly watch: (taskId: string, listener: (task: Task) => void) => () => void;
  /** Runs the spec's document with `task` as the root value, through Yoga's plugins. */
  readonly execute: (spec: StreamSpec, task: Task) => Promise<SharedEvent>;
  readonly onError: (error: unknown, taskId: string) => void;
}

interface Member {
  readonly subscriber: Subscriber;
  /** The version of the last task state this subscriber was sent. */
  version: number;
  /**
   * The bytes this subscriber was last sent (a reference to the group's shared string). A change
   * the document does not select (a queue position, a version bump) executes to the same bytes;
   * sending them again would cost a write per subscriber and tell nobody anything.
   */
  sent: string;
  unwatch: () => void;
}

/**
 * The subscribers of one spec. Each update is executed and serialised once for the group, then
 * handed to every member; a member that joins gets the snapshot first (shared with others who
 * join at the same version), then every later change, then completion after a final state.
 */
export class StreamGroup {
  readonly #members = new Set<Member>();
  readonly #deps: GroupDeps;
  /** The last publish seen: every member's listener reports the same one, only the first counts. */
  #lastSeen: Task | null = null;
  #last: { version: number; event: SharedEvent } | null = null;
  #snapshot: { version: number; event: Promise<SharedEvent> } | null = null;
  #delivering: Promise<void> = Promise.resolve();
  #joining = 0;

  constructor(
    readonly spec: StreamSpec,
    deps: GroupDeps,
    /** Called once the group has no member and no join under way. */
    private readonly onEmpty: (group: StreamGroup) => void,
  ) {
    this.#deps = deps;
  }

  get size(): number {
    return this.#members.size;
  }

  /**
   * Adds a subscriber. Resolves to its `leave` function, or null when the caller may not follow
   * the task (or the store did not answer): the transport then runs the operation through Yoga,
   * which answers NOT_FOUND.
   */
  async join(subscriber: Subscriber): Promise<(() => void) | null> {
    const member: Member = { subscriber, version: -1, sent: '', unwatch: () => {} };
    // Watch before reading the snapshot, as the schema's resolver does, so nothing falls between.
    member.unwatch = this.#deps.watch(this.spec.taskId, (task) => this.#onTask(task));
    this.#joining += 1;
    let current: Task | null = null;
    let snapshot: SharedEvent | null = null;
    try {
      current = await this.#deps.readTask(this.spec.caller, this.spec.taskId);
      if (current && !mayFollow(this.spec.caller, current)) current = null;
      if (current) snapshot = await this.#snapshotEvent(current);
    } catch (error) {
      this.#deps.onError(error, this.spec.taskId);
    } finally {
      this.#joining -= 1;
    }
    if (!current || !snapshot) {
      member.unwatch();
      this.#dropIfEmpty();
      return null;
    }
    member.version = current.version;
    member.sent = snapshot.json;
    subscriber.next(snapshot);
    const last = this.#last;
    if (!snapshot.final && last && last.version > member.version) {
      member.version = last.version;
      if (last.event.json !== member.sent) {
        member.sent = last.event.json;
        subscriber.next(last.event);
      }
      snapshot = last.event;
    }
    if (snapshot.final) {
      member.unwatch();
      subscriber.complete();
      this.#dropIfEmpty();
      return () => {};
    }
    this.#members.add(member);
    return () => this.#leave(member);
  }

  #leave(member: Member): void {
    if (!this.#members.delete(member)) return;
    member.unwatch();
    this.#dropIfEmpty();
  }

  #dropIfEmpty(): void {
    if (this.#members.size === 0 && this.#joining === 0) this.onEmpty(this);
  }

  /** Joiners that read the same version share one execution of the snapshot. */
  #snapshotEvent(task: Task): Promise<SharedEvent> {
    if (this.#last?.version === task.version) return Promise.resolve(this.#last.event);
    if (this.#snapshot?.version === task.version) return this.#snapshot.event;
    const event = this.#deps.execute(this.spec, task);
    this.#snapshot = { version: task.version, event };
    event.catch(() => {
      if (this.#snapshot?.event === event) this.#snapshot = null;
    });
    return event;
  }

  #onTask(task: Task): void {
    if (task === this.#lastSeen || !mayFollow(this.spec.caller, task)) return;
    this.#lastSeen = task;
    // Resolvers may be asynchronous (a shared queue's position): deliver in publish order.
    this.#delivering = this.#delivering
      .then(() => this.#deliver(task))
      .catch((error: unknown) => this.#deps.onError(error, task.id));
  }

  async #deliver(task: Task): Promise<void> {
    const event = await this.#deps.execute(this.spec, task);
    if (!this.#last || task.version >= this.#last.version) this.#last = { version: task.version, event };
    for (const member of this.#members) {
      if (task.version < member.version) continue;
      member.version = task.version;
      if (!event.final && event.json === member.sent) continue;
      member.sent = event.json;
      if (event.final) this.#members.delete(member);
      member.subscriber.next(event);
      if (event.final) {
        member.unwatch();
        member.subscriber.complete();
      }
    }
    if (event.final || isTerminal(task.state)) this.#dropIfEmpty();
  }
}
