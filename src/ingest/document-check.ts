import { UsageError } from '../errors.js';
import { findCustomerIdColumn, type InstanceRules } from './isolation.js';
import type { SourceRecord } from './source-record.js';
import { isPlainObject } from '../json-value.js';
import { isFailuresLine } from './failures-file.js';
import { isExportLine } from './mapper.js';
import { valueAt } from './validate.js';

/** How many records are looked at before the first is sent. */
export const DOCUMENT_CHECK_RECORDS = 1000;

/** Field names that usually hold the text of a record, most likely first. */
const TEXT_NAMES = [
  'text',
  'body',
  'content',
  'message',
  'transcript',
  'conversation',
  'note',
  'notes',
  'description',
  'summary',
  'comment',
  'markdown',
  'html',
  'chat',
  'prompt',
  'question',
  'answer',
  'details',
  'subject',
  'title',
];
const FIELDS_SHOWN = 20;
/** A character in a column name that more likely separates columns than names one. */
const SEPARATOR_LIKE = /[^\p{L}\p{N}_ .\-()/]/u;

/** What stops an input before it is sent, as its usage error says it. */
interface Refusal {
  message: string;
  hints: string[];
}

/**
 * Looks at the first records of an input (before anything is sent): when some are objects but
 * none has a document (after `--map document=…`), says which top-level fields there are (in the
 * order first seen) and which one most likely holds the text, instead of failing every record the same way. Export lines
 * (content) and failures-file lines (their record) count as having one. Undefined when at
 * least one record has a document, or no record is an object (other errors say more then).
 */
export function findMissingDocument(
  records: readonly SourceRecord[],
  map: Readonly<Record<string, string>>,
  source: string,
  /** The records are rows under a header (CSV, TSV). */
  tabular = false,
): Refusal | undefined {
  const path = map.document ?? 'document';
  const seen = new Set<string>();
  const strings = new Map<string, { n: number; length: number }>();
  let objects = 0;
  for (const r of records) {
    const v = mappedObject(r);
    // Text a failures-file line holds is read later; an export line has its document.
    if (v === 'unknown') return undefined;
    if (v === undefined) continue;
    objects += 1;
    // A record that has the field, even empty or null, is a record with a document field: an
    // empty one fails alone ("document is empty"), it does not call for another --map.
    if (valueAt(v, path) !== undefined) return undefined;
    for (const [k, val] of Object.entries(v)) {
      seen.add(k);
      noteStrings(k, val, strings);
      if (isPlainObject(val)) {
        for (const [k2, val2] of Object.entries(val)) noteStrings(`${k}.${k2}`, val2, strings);
      }
    }
  }
  if (objects === 0) return undefined;
  const fields = [...seen];
  const suggestion = likeliestText(strings, path);
  const shown = fieldList(fields);
  const first = firstRecords(objects, source);
  const message =
    map.document === undefined
      ? `no record has a document: ${first} no "document" field (fields found: ${shown})`
      : `--map document=${path}: ${first} no "${path}" (fields found: ${shown})`;
  const only = fields.length === 1 ? fields[0]! : undefined;
  if (tabular && map.document === undefined && only !== undefined && SEPARATOR_LIKE.test(only)) {
    // One column whose name looks like several: the file's delimiter was not recognised.
    return {
      message: `no record has a document: the header of ${source} has one column (${JSON.stringify(only)}), and no "document" column`,
      hints: [
        'If its columns are separated by a character other than a comma, ";", a tab or "|", save it with commas (or tabs, as .tsv); else name the column that holds the text with --map document=<column>',
      ],
    };
  }
  const hints = [
    suggestion
      ? `Name the field that holds the text, e.g. --map document=${suggestion}`
      : 'Name the field that holds the text with --map document=<field> (dotted paths work)',
  ];
  return { message, hints };
}

function noteStrings(
  key: string,
  v: unknown,
  strings: Map<string, { n: number; length: number }>,
): void {
  if (typeof v !== 'string' || v.trim() === '') return;
  const s = strings.get(key) ?? { n: 0, length: 0 };
  s.n += 1;
  s.length += v.length;
  strings.set(key, s);
}

/** A usual text field name if one holds text; else the field with the longest text on average. */
function likeliestText(
  strings: Map<string, { n: number; length: number }>,
  exclude: string,
): string | undefined {
  const rank = (k: string) => {
    const i = TEXT_NAMES.indexOf((k.split('.').pop() ?? k).toLowerCase());
    return i === -1 ? Infinity : i;
  };
  const avg = (x: string) => strings.get(x)!.length / strings.get(x)!.n;
  let best: string | undefined;
  for (const k of strings.keys()) {
    if (k === exclude) continue;
    if (
      best === undefined ||
      rank(k) < rank(best) ||
      (rank(k) === rank(best) && avg(k) > avg(best))
    )
      best = k;
  }
  return best;
}

/**
 * What a --map applies to in a record, as the mapper reads it: the object, or a failures-file
 * line's record; 'unknown' for a failures-file line whose record is text (read again later) or
 * an export line (its document is its content); undefined for anything else.
 */
function mappedObject(r: SourceRecord): Record<string, unknown> | 'unknown' | undefined {
  const outer = r.value;
  if (r.parseError || !isPlainObject(outer)) return undefined;
  const v = isFailuresLine(outer) ? outer.record : outer;
  if (!isPlainObject(v) || isExportLine(v)) return 'unknown';
  return v;
}

/** The fields found, as a message names them: the first FIELDS_SHOWN, then how many more. */
function fieldList(fields: readonly string[]): string {
  return fields.length > FIELDS_SHOWN
    ? `${fields.slice(0, FIELDS_SHOWN).join(', ')} and ${fields.length - FIELDS_SHOWN} more`
    : fields.join(', ') || '(none)';
}

/** "the first record of x has", "the first 3 records of x have". */
function firstRecords(n: number, source: string): string {
  return n === 1 ? `the first record of ${source} has` : `the first ${n} records of ${source} have`;
}

/**
 * Every `--map api=source` whose source field none of the first records has (absent, not
 * merely empty): a misspelled column would otherwise send null on every record. Says which
 * fields there are. Undefined when each mapped field is seen at least once, or no record is
 * an object the map applies to. `document` is left to findMissingDocument (it also suggests).
 */
export function findUnseenMapSources(
  records: readonly SourceRecord[],
  map: Readonly<Record<string, string>>,
  source: string,
): Refusal | undefined {
  const wanted = Object.entries(map).filter(([api]) => api !== 'document');
  if (wanted.length === 0) return undefined;
  const objects = records.map(mappedObject).filter((v) => isPlainObject(v));
  if (objects.length === 0) return undefined;
  const unseen = wanted.filter(([, path]) => !objects.some((v) => valueAt(v, path) !== undefined));
  if (unseen.length === 0) return undefined;
  const fields = [...new Set(objects.flatMap((v) => Object.keys(v)))];
  const flags = unseen.map(([api, path]) => `--map ${api}=${path}`).join(', ');
  const names = unseen.map(([, path]) => `"${path}"`).join(', ');
  return {
    message: `${flags}: ${firstRecords(objects.length, source)} no ${names} (fields found: ${fieldList(fields)})`,
    hints: [
      'Field names are case-sensitive; name a field the records have (dotted paths reach nested fields)',
    ],
  };
}

/**
 * The records of one input, with its first DOCUMENT_CHECK_RECORDS looked at before any is
 * passed on: throws a UsageError (exit 2, the reader closed) when none of them has a document
 * (see findMissingDocument) or a `--map` source field (findUnseenMapSources), or, on a B2C instance, when a column supplies customer ids (see
 * findCustomerIdColumn); otherwise yields every record, the looked-at ones first.
 */
export async function checkDocumentField<B extends SourceRecord[]>(
  batches: AsyncIterable<B>,
  map: Readonly<Record<string, string>>,
  source: string,
  instance?: InstanceRules,
  /** Also shown the looked-at records (quality checks); may throw to refuse the input. */
  inspect?: (head: SourceRecord[]) => void,
  /** The records are rows under a header (CSV, TSV). */
  tabular = false,
): Promise<AsyncIterable<B>> {
  const it = batches[Symbol.asyncIterator]();
  const head: B[] = [];
  let count = 0;
  let ended = false;
  while (count < DOCUMENT_CHECK_RECORDS) {
    const r = await it.next();
    if (r.done) {
      ended = true;
      break;
    }
    head.push(r.value);
    count += r.value.length;
  }
  // Exactly the first DOCUMENT_CHECK_RECORDS: the last batch read may go past them.
  const records = head.flat().slice(0, DOCUMENT_CHECK_RECORDS);
  const problem =
    findMissingDocument(records, map, source, tabular) ??
    findUnseenMapSources(records, map, source);
  const refused = instance ? findCustomerIdColumn(instance, records, source) : undefined;
  try {
    if (problem) throw new UsageError(problem.message, { hints: problem.hints });
    if (refused) throw refused;
    inspect?.(records);
  } catch (err) {
    if (!ended) await it.return?.();
    throw err;
  }
  return (async function* () {
    let done = ended;
    try {
      yield* head;
      while (!done) {
        const r = await it.next();
        if (r.done) done = true;
        else yield r.value;
      }
    } finally {
      // Stopped early by the consumer: close the reader (and its file).
      if (!done) await it.return?.();
    }
  })();
}
