import { isPlainObject } from '../json-value.js';
import { CREDIT_STOP_REASONS, type CreditStopReason } from './types.js';

/** An error body, read once (parseErrorBody). */
export interface ErrorBody {
  message: string | undefined;
  code: string | undefined;
  details: Record<string, unknown>;
  /** The top level merged with the `detail` (or `error`) object, for the credit bodies' fields. */
  fields: Record<string, unknown>;
  /** The first validation issue's `type` of an array `detail` (e.g. "missing", "not_found"). */
  issueType: string | undefined;
  /** FastAPI validation errors: each issue's `loc` joined with dots. */
  locations: string[];
  /**
   * The credit-stop reason of a 429 body: the `reason` or `error` of its `detail` object or of
   * the body itself (the credit gate nests its payload; other paths do not).
   */
  creditStop: CreditStopReason | undefined;
}

/**
 * Reads an error body in every shape the service and its proxies use: FastAPI's `{"detail": …}`
 * (a string, an array of validation issues, or an object with `code`/`message`), the documented
 * `{"error": "…", "code", "details"}`, and `{"error": {"code", "message"}}`.
 */
export function parseErrorBody(bodyText: string): ErrorBody {
  let body: unknown;
  try {
    body = JSON.parse(bodyText);
  } catch {
    body = undefined; // not JSON: its text (trimmed, capped) is the message
  }
  const obj = asRecord(body) ?? {};
  const detail = obj.detail;
  const detailObj = asRecord(detail);
  const errorObj = asRecord(obj.error);
  let message: string | undefined;
  let issueType: string | undefined;
  const locations: string[] = [];
  if (body === undefined) message = bodyText.trim().slice(0, 300) || undefined;
  else if (typeof detail === 'string') message = detail;
  else if (detailObj) message = str(detailObj.message) ?? str(detailObj.detail);
  else if (Array.isArray(detail)) {
    // FastAPI validation errors: [{loc: [...], msg: "...", type: "..."}]
    message = detail
      .map((d) => {
        const r = asRecord(d);
        if (!r) return String(d);
        const loc = Array.isArray(r.loc) ? r.loc.join('.') : '';
        if (loc) locations.push(loc);
        return loc ? `${loc}: ${String(r.msg ?? '')}` : String(r.msg ?? '');
      })
      .join('; ');
    issueType = str(asRecord(detail[0])?.type);
  }
  message ??= str(obj.message) ?? str(obj.error) ?? str(errorObj?.message);
  const creditStop = [detailObj?.reason, detailObj?.error, obj.reason, obj.error].find((v) =>
    (CREDIT_STOP_REASONS as readonly unknown[]).includes(v),
  ) as CreditStopReason | undefined;
  return {
    message,
    code: str(detailObj?.code) ?? str(obj.code) ?? str(errorObj?.code),
    details: asRecord(obj.details) ?? {},
    fields: { ...obj, ...(errorObj ?? {}), ...(detailObj ?? {}) },
    issueType,
    locations,
    creditStop,
  };
}

export const asRecord = (v: unknown) => (isPlainObject(v) ? v : undefined);

/** A number, or a string that is one ("10"); else undefined. */
export function num(v: unknown): number | undefined {
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))) return Number(v);
  return undefined;
}

/** A non-empty string; else undefined. */
export function str(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}
