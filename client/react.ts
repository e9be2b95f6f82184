import {
  createContext,
  createElement,
  type ReactNode,
  useCallback,
  useContext,
  useEffect,
  useMemo,
  useRef,
  useState,
} from 'react';
import { GatewayError, networkError } from './errors.js';
import {
  createGatewayClient,
  type GatewayClient,
  type GatewayConnection,
  type GenerateInput,
  type Task,
} from './index.js';

const GatewayContext = createContext<GatewayClient | null>(null);

/** Either a client made with `createGatewayClient(...)`, or what to make one with (`url`, `token`, …). */
export type GatewayProviderProps = ({ readonly client: GatewayClient } | GatewayConnection) & {
  readonly children?: ReactNode;
};

/**
 * Makes a gateway client available to the hooks below it: the one given as `client`, or one the
 * provider creates from `url` and `token` (a string or an async function, renewed once when the
 * gateway says it expired) and disposes when it unmounts or the `url` changes.
 */
export function GatewayProvider(props: GatewayProviderProps): ReactNode {
  const given = 'client' in props ? props.client : null;
  const connection = given ? null : (props as GatewayConnection);
  // The latest props are read through a ref, so a new token function each render keeps the client.
  const latest = useRef(connection);
  latest.current = connection;
  const url = connection?.url ?? null;
  const made = useMemo(() => {
    if (url === null) return null;
    const read = (pick: (c: GatewayConnection) => GatewayConnection['token']) => {
      const source = latest.current ? pick(latest.current) : null;
      return typeof source === 'function' ? source() : source;
    };
    const options = latest.current;
    return createGatewayClient({
      url,
      ...(options?.token != null ? { token: () => read((c) => c.token) } : {}),
      ...(options?.apiKey != null ? { apiKey: () => read((c) => c.apiKey) } : {}),
      ...(options?.fetch ? { fetch: options.fetch } : {}),
    });
  }, [url]);
  useEffect(() => () => made?.dispose(), [made]);
  return createElement(GatewayContext.Provider, { value: given ?? made }, props.children);
}

function useGatewayClient(): GatewayClient {
  const client = useContext(GatewayContext);
  if (!client)
    throw new Error(
      'Wrap the component in <GatewayProvider url="…/graphql" token={…}> (or client={createGatewayClient(...)}).',
    );
  return client;
}

/** A task as a component shows it; the fields are null/empty until the first update arrives. */
export interface TaskView {
  readonly task: Task | null;
  readonly state: Task['state'] | null;
  /** 0 to 100. */
  readonly progress: number;
  /** 1-based place in the gateway's queue while waiting; null once sent. */
  readonly queuePosition: number | null;
  /** When a queued task is expected to start, as an ISO string. */
  readonly estimatedStartAt: string | null;
  readonly images: Task['images'];
  /** Why the request or the live stream failed (a FAILED task says why in `task.error`). */
  readonly error: GatewayError | null;
}

function view(task: Task | null, error: GatewayError | null): TaskView {
  return {
    task,
    state: task?.state ?? null,
    progress: task?.progress ?? 0,
    queuePosition: task?.queuePosition ?? null,
    estimatedStartAt: task?.estimatedStartAt ?? null,
    images: task?.images ?? [],
    error,
  };
}

function asGatewayError(error: unknown): GatewayError {
  return error instanceof GatewayError
    ? error
    : networkError(error instanceof Error ? error.message : String(error), error);
}

/**
 * Follows a task live (state, progress, queue position, images) for as long as the component is
 * mounted with that id; unmounting or a new id closes the stream. `null` follows nothing.
 */
export function useBackgroundTask(id: string | null | undefined): TaskView {
  const client = useGatewayClient();
  const [task, setTask] = useState<Task | null>(null);
  const [error, setError] = useState<GatewayError | null>(null);
  useEffect(() => {
    setTask(null);
    setError(null);
    if (!id) return;
    const controller = new AbortController();
    client.follow(id, { onUpdate: setTask, signal: controller.signal }).catch((reason: unknown) => {
      if (!controller.signal.aborted) setError(asGatewayError(reason));
    });
    return () => controller.abort();
  }, [client, id]);
  return view(task, error);
}

/** What `useGenerateBackground` returns: the task being generated and the actions on it. */
export interface GenerateState extends TaskView {
  /** Starts a task (replacing any followed one) and resolves with it once final; rejects with a GatewayError. */
  generate(input: GenerateInput): Promise<Task>;
  /** Cancels the current task on the gateway. */
  cancel(): Promise<void>;
  /** Whether a task is being created or followed. */
  readonly running: boolean;
}

/**
 * Creates tasks and follows them: `generate(input)` uploads and then tracks the task live. The
 * stream of the current task closes when another one starts or the component unmounts.
 */
export function useGenerateBackground(): GenerateState {
  const client = useGatewayClient();
  const [task, setTask] = useState<Task | null>(null);
  const [error, setError] = useState<GatewayError | null>(null);
  const [running, setRunning] = useState(false);
  const current = useRef<{ controller: AbortController; id: string | null } | null>(null);
  useEffect(() => () => current.current?.controller.abort(), []);

  const generate = useCallback(
    async (input: GenerateInput) => {
      current.current?.controller.abort();
      const run = { controller: new AbortController(), id: null as string | null };
      current.current = run;
      setTask(null);
      setError(null);
      setRunning(true);
      const onUpdate = (update: Task) => {
        run.id = update.id;
        if (!run.controller.signal.aborted) setTask(update);
      };
      try {
        return await client.generate(input, { onUpdate, signal: run.controller.signal });
      } catch (reason) {
        const failure = asGatewayError(reason);
        if (!run.controller.signal.aborted) setError(failure);
        throw failure;
      } finally {
        if (current.current === run) setRunning(false);
      }
    },
    [client],
  );

  const cancel = useCallback(async () => {
    const id = current.current?.id;
    if (id) await client.cancel(id);
  }, [client]);

  return { ...view(task, error), generate, cancel, running };
}
