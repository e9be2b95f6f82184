import { mintSession, SESSION_TTL_SECONDS } from '../../core/caller.js';
import { builder } from './builder.js';
import { toGraphQLError } from './errors.js';

/**
 * End-user sessions (#23): a tenant's backend, holding a server key, mints a short-lived token for
 * one of its signed-in users and hands it to the browser, which sends it like a key and sees only
 * that user's tasks. The rules are in core/caller.ts; docs/sessions.md says what a session may do.
 */

const CreateSessionTokenInput = builder.inputType('CreateSessionTokenInput', {
  description: 'Who the token is for and how long it lives.',
  fields: (t) => ({
    subject: t.string({
      required: true,
      description:
        'Your id for the end user (1–128 printable characters), e.g. your user id. Tasks are theirs alone.',
    }),
    ttlSeconds: t.int({
      defaultValue: SESSION_TTL_SECONDS.default,
      description: `Lifetime in seconds, ${SESSION_TTL_SECONDS.min} to ${SESSION_TTL_SECONDS.max}.`,
    }),
  }),
});

const SessionTokenRef = builder.objectRef<{ token: string; subject: string; expiresAt: Date }>(
  'SessionToken',
);
SessionTokenRef.implement({
  description: 'A signed session token for one end user: send it as `Authorization: Bearer <token>`.',
  fields: (t) => ({
    token: t.exposeString('token', {
      description: 'The token. Give it to that user’s browser only; never log it.',
    }),
    subject: t.exposeString('subject', { description: 'The end user it speaks for.' }),
    expiresAt: t.field({
      type: 'DateTime',
      description: 'When it stops working (TOKEN_EXPIRED): mint a new one before then.',
      resolve: (token) => token.expiresAt,
    }),
  }),
});

builder.mutationField('createSessionToken', (t) =>
  t.field({
    type: SessionTokenRef,
    description:
      'Mints a session token for one end user of your tenant (server keys only; FORBIDDEN for a session). Stateless: every instance verifies it.',
    args: { input: t.arg({ type: CreateSessionTokenInput, required: true }) },
    resolve: async (_root, { input }, ctx) => {
      const minted = await mintSession(ctx.caller, input, ctx.services.sessions);
      if (!minted.ok) throw toGraphQLError(minted.error);
      return minted.value;
    },
  }),
);
