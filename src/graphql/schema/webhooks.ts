import { requireServerScope } from '../../core/caller.js';
import type {
  WebhookAttempt,
  WebhookDelivery,
  WebhookDeliveryStatus,
  WebhookSecrets,
} from '../../core/webhooks.js';
import { builder } from './builder.js';
import { toGraphQLError } from './errors.js';
import { BackgroundTaskRef, BackgroundTaskStateEnum } from './task.js';
import { ViewerRef } from './viewer.js';

/**
 * Webhooks in the schema (docs/webhooks.md): what was sent for a task and how it went, and the
 * tenant's signing secret to read and rotate. The inputs live with `GenerateBackgroundInput`.
 */

const WebhookDeliveryStatusEnum = builder.enumType('WebhookDeliveryStatus', {
  description: 'Where one webhook delivery stands.',
  values: {
    PENDING: { description: 'Not delivered yet; `nextAttemptAt` says when it is tried (again).' },
    DELIVERED: { description: 'The receiver answered 2xx.' },
    GAVE_UP: { description: 'The receiver answered 410, or 24 hours of retries did not get a 2xx.' },
  } as const satisfies Record<WebhookDeliveryStatus, { description: string }>,
});

const WebhookAttemptRef = builder.objectRef<WebhookAttempt>('WebhookAttempt');
WebhookAttemptRef.implement({
  description: 'One try of a delivery.',
  fields: (t) => ({
    at: t.field({ type: 'DateTime', description: 'When it was sent.', resolve: (a) => a.at }),
    statusCode: t.exposeInt('statusCode', {
      nullable: true,
      description:
        'The HTTP status the receiver answered; null when none came (refused, unreachable, timeout).',
    }),
    error: t.exposeString('error', {
      nullable: true,
      description: 'Why the try failed (e.g. `HTTP 500`, `URL_TIMEOUT: …`); null when it delivered.',
    }),
  }),
});

const WebhookDeliveryRef = builder.objectRef<WebhookDelivery>('WebhookDelivery');
WebhookDeliveryRef.implement({
  description: 'One webhook for one event of a task, with every try made so far.',
  fields: (t) => ({
    id: t.exposeID('id', { description: 'The `webhook-id` header: the same on every retry.' }),
    event: t.field({
      type: BackgroundTaskStateEnum,
      description: 'The state the task reached.',
      resolve: (d) => d.event,
    }),
    url: t.exposeString('url', { description: 'Where it is sent.' }),
    status: t.field({
      type: WebhookDeliveryStatusEnum,
      description: 'Where it stands.',
      resolve: (d) => d.status,
    }),
    attempts: t.field({
      type: [WebhookAttemptRef],
      description: 'Every try, oldest first.',
      resolve: (d) => d.attempts,
    }),
    attemptCount: t.int({ description: 'How many tries were made.', resolve: (d) => d.attempts.length }),
    lastStatusCode: t.int({
      nullable: true,
      description: 'The status of the latest try, if the receiver answered it.',
      resolve: (d) => d.attempts.at(-1)?.statusCode ?? null,
    }),
    nextAttemptAt: t.field({
      type: 'DateTime',
      nullable: true,
      description: 'When the next try is due; null once DELIVERED or GAVE_UP.',
      resolve: (d) => d.nextAttemptAt,
    }),
    createdAt: t.field({
      type: 'DateTime',
      description: 'When the event happened.',
      resolve: (d) => d.createdAt,
    }),
  }),
});

builder.objectField(BackgroundTaskRef, 'webhookDeliveries', (t) =>
  t.field({
    type: [WebhookDeliveryRef],
    description: 'The webhooks sent (or being sent) for this task, oldest first; empty without `webhookUrl`.',
    resolve: (task, _args, ctx) => (task.webhook ? ctx.services.webhooks.deliveries(task.id) : []),
  }),
);

const WebhookSecretRef = builder.objectRef<WebhookSecrets>('WebhookSecret');
WebhookSecretRef.implement({
  description:
    'The secret webhooks are signed with (Standard Webhooks: `whsec_` and base64). Keep it on your server.',
  fields: (t) => ({
    secret: t.exposeString('current', { description: 'The current secret; it signs every delivery.' }),
    previousValidUntil: t.field({
      type: 'DateTime',
      nullable: true,
      description:
        'After a rotation, deliveries carry a second signature made with the previous secret until then.',
      resolve: (s) => (s.previous !== null && s.previousUntil !== null ? s.previousUntil : null),
    }),
  }),
});

builder.objectField(ViewerRef, 'webhookSecret', (t) =>
  t.field({
    type: WebhookSecretRef,
    description: 'Your webhook signing secret (made on first read).',
    resolve: (viewer, _args, ctx) => {
      const allowed = requireServerScope(ctx.caller, 'viewer.webhookSecret');
      if (!allowed.ok) throw toGraphQLError(allowed.error);
      return ctx.services.webhooks.secrets(viewer.tenantId);
    },
  }),
);

builder.mutationField('rotateWebhookSecret', (t) =>
  t.field({
    type: WebhookSecretRef,
    description:
      'Makes a new webhook signing secret. The old one keeps signing as well (a second signature) for WEBHOOK_SECRET_GRACE_SECONDS, so receivers can switch without missing a delivery.',
    resolve: (_root, _args, ctx) => {
      const allowed = requireServerScope(ctx.caller, 'rotateWebhookSecret');
      if (!allowed.ok) throw toGraphQLError(allowed.error);
      return ctx.services.webhooks.rotate(ctx.caller.tenantId);
    },
  }),
);
