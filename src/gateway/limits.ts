import type { Config } from '../config/config.js';
import type { TenantLimits } from '../core/tenant-limits.js';

/**
 * The creation limits and daily credit caps of a tenant and of each end user inside it, as both
 * limiters take them.
 */
export function tenantLimits(config: Config): TenantLimits {
  return {
    perMinute: config.auth.rateLimitPerMinute,
    maxActive: config.auth.maxActiveTasks,
    subject: {
      perMinute: config.identity.subjectRateLimitPerMinute,
      maxActive: config.identity.subjectMaxActiveTasks,
    },
    credits: {
      perTenant: config.tenantDailyCredits,
      perSubject: config.identity.subjectDailyCredits,
      prices: config.picwish.credits,
    },
  };
}
