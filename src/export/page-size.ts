import { MAX_PAGE_SIZE } from '../client/types.js';

const DEFAULT_EXPORT_PAGE_SIZE = 100;

/** Page size from the flag, else the profile's page_size (capped at the API maximum), else 100. */
export function exportPageSize(
  flag: number | undefined,
  profileDefault: number | undefined,
): number {
  if (flag !== undefined) return flag;
  if (profileDefault !== undefined && Number.isInteger(profileDefault) && profileDefault >= 1) {
    return Math.min(profileDefault, MAX_PAGE_SIZE);
  }
  return DEFAULT_EXPORT_PAGE_SIZE;
}
