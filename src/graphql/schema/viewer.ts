import type { TenantStanding } from '../../core/tenant-limits.js';
import { builder } from './builder.js';

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
  }),
});

/** The caller as the gateway knows it: the tenant its key names. */
const ViewerRef = builder.objectRef<{ readonly tenantId: string }>('Viewer');
ViewerRef.implement({
  description: 'The tenant making the request (named by its gateway key; `local` without keys).',
  fields: (t) => ({
    name: t.string({ description: 'The tenant’s name.', resolve: (viewer) => viewer.tenantId }),
    limits: t.field({
      type: TenantLimitsRef,
      description: 'Its creation limits now.',
      resolve: (viewer, _args, ctx) => ctx.services.tasks.standing(viewer.tenantId),
    }),
  }),
});

builder.queryFields((t) => ({
  viewer: t.field({
    type: ViewerRef,
    description: 'The calling tenant and where it stands against its limits.',
    resolve: (_root, _args, ctx) => ({ tenantId: ctx.tenantId }),
  }),
}));
