import { ApolloClient, gql, HttpLink, InMemoryCache } from '@apollo/client';
import { ApolloProvider, useSubscription } from '@apollo/client/react';
import { createElement, Fragment, useEffect } from 'react';
import { createRoot } from 'react-dom/client';

/**
 * A React app as a frontend team would write it, bundled for Chromium by test/e2e/browser.test.ts:
 * Apollo Client 4 with its plain HttpLink (multipart subscriptions, no extra link) and the
 * `useSubscription` hook, following the task and the batch named in the page's query string. What
 * it sees is written to `document.body.dataset` for the test to read.
 */

const FOLLOW_TASK = gql`
  subscription FollowTask($id: ID!) {
    backgroundTaskUpdated(id: $id) {
      id
      state
      progress
    }
  }
`;

const FOLLOW_BATCH = gql`
  subscription FollowBatch($id: ID!) {
    backgroundBatchUpdated(id: $id) {
      id
      done
      counts {
        succeeded
      }
    }
  }
`;

type Report = (name: 'task' | 'batch', value: string, done: boolean) => void;

function TaskProbe(props: { id: string; report: Report }) {
  const { data, error } = useSubscription<{ backgroundTaskUpdated: { state: string; progress: number } }>(
    FOLLOW_TASK,
    { variables: { id: props.id } },
  );
  useEffect(() => {
    if (error) props.report('task', `error: ${error.message}`, true);
    const task = data?.backgroundTaskUpdated;
    if (task) props.report('task', `${task.state}:${task.progress}`, task.state === 'SUCCEEDED');
  }, [props.report, data, error]);
  return null;
}

function BatchProbe(props: { id: string; report: Report }) {
  const { data, error } = useSubscription<{
    backgroundBatchUpdated: { done: boolean; counts: { succeeded: number } };
  }>(FOLLOW_BATCH, { variables: { id: props.id } });
  useEffect(() => {
    if (error) props.report('batch', `error: ${error.message}`, true);
    const batch = data?.backgroundBatchUpdated;
    if (batch) props.report('batch', `succeeded:${batch.counts.succeeded}`, batch.done);
  }, [props.report, data, error]);
  return null;
}

const params = new URLSearchParams(location.search);
const seen: Record<'task' | 'batch', string[]> = { task: [], batch: [] };
const report: Report = (name, value, done) => {
  seen[name].push(value);
  document.body.dataset[name] = seen[name].join(' ');
  if (done) document.body.dataset[`${name}Done`] = 'true';
};
const client = new ApolloClient({ cache: new InMemoryCache(), link: new HttpLink({ uri: '/graphql' }) });
const root = document.getElementById('root') as HTMLElement;
createRoot(root).render(
  createElement(ApolloProvider, {
    client,
    children: createElement(
      Fragment,
      null,
      createElement(TaskProbe, { id: params.get('task') ?? '', report }),
      createElement(BatchProbe, { id: params.get('batch') ?? '', report }),
    ),
  }),
);
