import type { CreditStopReason } from './types.js';

/**
 * The words an error adds to what the server said: whose key was refused and how to replace it,
 * where credits are managed, why a redirect is not followed.
 */

/** Where a key came from, in the words a refusal names it by (so the user knows what to fix). */
const KEY_SOURCE_TEXT = {
  env: 'key from SYNAP_API_KEY',
  profile: 'stored key',
  local: 'local emulator key',
  option: 'key being verified',
  none: 'no key',
};
export type KeySource = keyof typeof KEY_SOURCE_TEXT;

/** The profile and the source of the key a client sends. */
export interface KeyOwner {
  profile: string;
  source: KeySource;
}

/** 401/403: the message names the profile and key, and a hint says how to replace the key. */
export function refusedKey(
  message: string,
  owner: KeyOwner | undefined,
): { message: string; hints: string[] } {
  if (!owner) return { message, hints: [] };
  const flag = owner.profile === 'default' ? '' : ` --profile ${owner.profile}`;
  return {
    message: `${message} (profile "${owner.profile}", ${KEY_SOURCE_TEXT[owner.source]})`,
    hints: [
      owner.source === 'env'
        ? 'Check SYNAP_API_KEY, or unset it to use the stored key.'
        : owner.source === 'option'
          ? // The key being verified by auth login: nothing was stored.
            'Nothing was stored; check the key and the base URL, then try again.'
          : `Store a valid key with 'synap auth login${flag}'.`,
    ],
  };
}

const BALANCE_HINT = "See the balance with 'synap credits'.";

/** A hint naming `url`, when the server sent one (and it is not `shown` already). */
function link(label: string, url: string | undefined, shown?: string): string[] {
  return url && url !== shown ? [`${label}: ${url}`] : [];
}

/** 402: where the plan is managed and a credit code redeemed (as the server names them). */
export function outOfCreditsHints(urls: {
  manage: string | undefined;
  redeem: string | undefined;
}): string[] {
  return [
    ...link('Manage the plan', urls.manage),
    ...link('Redeem a credit code', urls.redeem),
    BALANCE_HINT,
  ];
}

export const CREDIT_STOP_TEXT: Record<CreditStopReason, string> = {
  insufficient_credits: 'the credits are spent',
  trial_limit_reached: 'the trial credits are spent',
  subscription_inactive: 'the subscription is not active',
};

/** A credit stop: a spent trial is lifted by upgrading; a lapsed plan where it is managed. */
export function creditStopHints(
  reason: CreditStopReason,
  urls: { upgrade: string | undefined; manage: string | undefined },
): string[] {
  const { upgrade, manage } = urls;
  return reason === 'trial_limit_reached'
    ? [...link('Upgrade', upgrade), ...link('Manage the plan', manage, upgrade)]
    : [
        ...link('Manage the plan', manage),
        ...link('Upgrade', upgrade, manage),
        ...(reason === 'insufficient_credits' ? [BALANCE_HINT] : []),
      ];
}

export const REDIRECT_HINT =
  'Set the base URL to the service address itself (synap config set base_url, or --base-url).';
