import { type Caller, isSession } from '../../core/caller.js';
import { creditsFor } from '../../core/credits.js';
import type { TenantStanding } from '../../core/tenant-limits.js';
import type { TaskUsage, UsagePeriod } from '../../core/usage.js';
import { builder } from './builder.js';
import { toGraphQLError } from './errors.js';
import { TaskStateCountsRef } from './state-counts.js';

const TenantLimitsRef = builder.objectRef<TenantStanding>('TenantLimits');
TenantLimitsRef.implement({
  description:
    'The caller’s creation limits as they stand now, so a product can show what is left instead of meeting RATE_LIMITED.',
  fields: (t) => ({
    perMinute: t.exposeInt('perMinute', {
      description: 'Tasks that may be created per minute (TENANT_RATE_LIMIT_PER_MINUTE).',
    }),
    remainingThisMinute: t.exposeInt('remainingThisMinute', {
      description: 'Tasks that may still be created in the current one-minute window.',
    }),
    resetsAt: t.field({
      type: 'DateTime',
      nullable: true,
      description:
        'When the oldest creation leaves the window and one more may be created; null when none is in it.',
      resolve: (standing) => standing.resetsAt,
    }),
    maxActive: t.exposeInt('maxActive', {
      description: 'Unfinished tasks allowed at once (TENANT_MAX_ACTIVE_TASKS).',
    }),
    active: t.exposeInt('active', { description: 'The caller’s unfinished tasks now.' }),
    creditsPerDay: t.exposeInt('creditsPerDay', {
      nullable: true,
      description:
        'PicWish credits the caller may spend per UTC day (#25): a session’s own cap (SUBJECT_DAILY_CREDITS), else its tenant’s (TENANT_DAILY_CREDITS); null when uncapped.',
    }),
    creditsRemainingToday: t.exposeInt('creditsRemainingToday', {
      nullable: true,
      description:
        'Credits that may still be reserved today under every cap that binds the caller (a session: its own and its tenant’s). A task reserves its `estimatedCredits` when created and gives back what it was not charged when it ends; null when uncapped.',
    }),
    creditsResetAt: t.field({
      type: 'DateTime',
      description: 'When the credit day ends and the caps start afresh: the next midnight UTC.',
      resolve: (standing) => standing.creditsResetAt,
    }),
  }),
});

const TenantUsageRef = builder.objectRef<{ readonly period: UsagePeriod; readonly usage: TaskUsage }>(
  'TenantUsage',
);
TenantUsageRef.implement({
  description:
    'What the caller’s tasks created in a period came to, counted from the gateway’s store: deleted tasks, and tasks past RESULT_RETENTION_DAYS, no longer count.',
  fields: (t) => ({
    from: t.field({
      type: 'DateTime',
      description: 'Start of the period (included).',
      resolve: ({ period }) => period.from,
    }),
    to: t.field({
      type: 'DateTime',
      description: 'End of the period (excluded).',
      resolve: ({ period }) => period.to,
    }),
    tasksByState: t.field({
      type: TaskStateCountsRef,
      description: 'The tasks created in the period, by the state they are in now.',
      resolve: ({ usage }) => usage.byState,
    }),
    imagesGenerated: t.int({
      description: 'Images the period’s SUCCEEDED tasks produced.',
      resolve: ({ usage }) => usage.imagesGenerated,
    }),
    creditsCharged: t.int({
      description:
        'PicWish credits the period’s tasks were charged: those images (PICWISH_CREDITS_PER_IMAGE each) and each `removeBackground` cutout that came back (PICWISH_CUTOUT_CREDITS), whatever followed — the sum of the tasks’ own `creditsCharged` once they are final.',
      resolve: ({ usage }, _args, ctx) =>
        creditsFor({ images: usage.imagesGenerated, cutouts: usage.cutouts }, ctx.services.credits),
    }),
  }),
});

const ViewerScopeEnum = builder.enumType('ViewerScope', {
  description: 'What a credential speaks for (docs/sessions.md).',
  values: {
    SERVER: {
      description: 'A server key: the whole tenant. Keep it on your backend; never ship it to a browser.',
    },
    SESSION: {
      description:
        'A session token (from createSessionToken or your identity provider): one end user of the tenant, for a limited time.',
    },
  },
});

/** The caller as the gateway knows it: its tenant and, for a session, its end user (webhooks.ts adds the secret). */
export const ViewerRef = builder.objectRef<Caller>('Viewer');
ViewerRef.implement({
  description:
    'Who is making the request: the tenant (named by its server key or its session; `local` without keys) and, for a session, the end user.',
  fields: (t) => ({
    name: t.string({ description: 'The tenant’s name.', resolve: (viewer) => viewer.tenantId }),
    scope: t.field({
      type: ViewerScopeEnum,
      description: 'SERVER for a server key, SESSION for an end user’s token.',
      resolve: (viewer) => (isSession(viewer) ? 'SESSION' : 'SERVER'),
    }),
    subject: t.string({
      nullable: true,
      description: 'The end user a session speaks for; null for a server key.',
      resolve: (viewer) => viewer.subject,
    }),
    limits: t.field({
      type: TenantLimitsRef,
      description: 'Its creation limits now (a session: its end user’s own, inside the tenant’s).',
      resolve: (viewer, _args, ctx) => ctx.services.tasks.standing(viewer),
    }),
    usage: t.field({
      type: TenantUsageRef,
      description:
        'What its tasks (a session: its end user’s) created in `[from, to)` came to. `to` defaults to now and `from` to 24 hours before `to`; `from` must be before `to` (else BAD_USER_INPUT, reason INVALID_PERIOD).',
      args: {
        from: t.arg({ type: 'DateTime', description: 'Start of the period (included).' }),
        to: t.arg({ type: 'DateTime', description: 'End of the period (excluded).' }),
      },
      resolve: async (viewer, args, ctx) => {
        const usage = await ctx.services.tasks.usage(viewer, args.from ?? null, args.to ?? null);
        if (!usage.ok) throw toGraphQLError(usage.error);
        return usage.value;
      },
    }),
  }),
});

builder.queryFields((t) => ({
  viewer: t.field({
    type: ViewerRef,
    description:
      'The caller (tenant, scope, end user), where it stands against its limits, and what it has used.',
    resolve: (_root, _args, ctx) => ctx.caller,
  }),
}));
