import { lstat, readdir, realpath, stat } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { UsageError } from '../errors.js';
import { findFormat, formatFromName, refineBytes, type InputFormat } from './formats/index.js';
import type { EntriesEvent } from './readers/zip.js';

/**
 * Which entries of a container (a zip archive or a folder) are read, in which format, and
 * which are not and why. Shared by readers/zip.ts and the folder walk below, so an export
 * reads the same zipped or unpacked.
 */

/** One file of a container, as far as choosing it goes. */
export interface ContainerEntry {
  /** Its path inside the container, `/`-separated. */
  name: string;
  /** Set when its name points outside the container: it fails, whatever its format. */
  unsafeName?: string;
  /** Set when it must not be read (encrypted, a zip bomb): it fails if a format claims it. */
  refused?: string;
  /** Set when it is left out whatever its format (a link to a file read under its own name). */
  skip?: string;
  /** Opens its bytes (only to look at the head of a file whose format content refines). */
  open: () => Promise<AsyncIterable<Buffer>>;
}

export interface EntryPlan<E extends ContainerEntry> {
  /** Read, in container order; `refused` entries are failures, in their place. */
  items: { entry: E; format: InputFormat | undefined; refused?: string }[];
  /** Not read, with why. */
  ignored: { name: string; why: string }[];
}

/** Why an entry no format claims by its name is not read (the summary counts these). */
export const NO_FORMAT_CLAIMS = 'no input format claims its name';

/** What synap leaves beside an input: never an input itself. */
const OWN_FILES = /\.(failures\.jsonl|synap-state\.json|synap-lock|synap-done\.json)$/i;

/**
 * The folders that hold Markdown pages directly (`Tasks/` of `Tasks/Rotate keys.md`): where a
 * Notion export keeps the row pages of a database.
 */
function pageFolders(entries: readonly ContainerEntry[]): Set<string> {
  const out = new Set<string>();
  for (const { name } of entries) {
    const slash = name.lastIndexOf('/');
    if (slash > 0 && /\.(md|markdown)$/i.test(name)) out.add(name.slice(0, slash));
  }
  return out;
}

/**
 * A Notion export (Markdown & CSV) writes each database as a table, `X.csv` and `X_all.csv`,
 * beside the folder `X/` of its row pages: the pages are the notes, the table repeats them.
 * The folder's name when `name` is such a table.
 */
function notionTableOf(name: string, pages: Set<string>): string | undefined {
  const m = /^(.*)\.csv$/i.exec(name);
  if (!m) return undefined;
  const stem = m[1]!;
  if (pages.has(stem)) return stem;
  const all = stem.replace(/_all$/, '');
  return all !== stem && pages.has(all) ? all : undefined;
}

/** A dot-file or dot-folder anywhere in the path, or a macOS resource fork folder. */
function isHiddenPath(name: string): boolean {
  return name.split('/').some((part) => part.startsWith('.') || part === '__MACOSX');
}

/**
 * Chooses the entries to read:
 * - hidden entries, synap's own files and entries no format claims by name are ignored, and so
 *   are a Notion export's database tables (their rows are the Markdown pages beside them);
 *   with `--format`, the entries named like that format (a ChatGPT export: `.json`) are read
 *   as it;
 * - an entry whose format content refines (a `.json`) has its head looked at, so a ChatGPT or
 *   Claude `conversations.json` is read as one;
 * - when some entry is such an export, the container is that app's export: only those
 *   entries hold the conversations, and the rest (user.json, projects.json…) is ignored;
 * - a refused entry the format would have read stays in the plan, to fail in its place.
 */
export async function planEntries<E extends ContainerEntry>(
  entries: readonly E[],
  forced: InputFormat | undefined,
  sniff: (bytes: AsyncIterable<Buffer>, base: InputFormat) => Promise<InputFormat>,
): Promise<EntryPlan<E>> {
  const ignored: EntryPlan<E>['ignored'] = [];
  let items: EntryPlan<E>['items'] = [];
  const forcedSpec = findFormat(forced);
  const pages = pageFolders(entries);
  for (const entry of entries) {
    const { name } = entry;
    if (entry.unsafeName !== undefined) {
      items.push({ entry, format: undefined, refused: entry.unsafeName });
      continue;
    }
    const passedOver = isHiddenPath(name)
      ? 'hidden'
      : (entry.skip ?? (OWN_FILES.test(name) ? "synap's own file" : undefined));
    if (passedOver !== undefined) {
      ignored.push({ name, why: passedOver });
      continue;
    }
    const byName = formatFromName(name);
    const claimed =
      forcedSpec === undefined
        ? byName
        : byName !== undefined && byName === (forcedSpec.refines ?? forcedSpec.name)
          ? forcedSpec.name
          : undefined;
    if (claimed === undefined) {
      ignored.push({ name, why: NO_FORMAT_CLAIMS });
      continue;
    }
    const table = forced === undefined ? notionTableOf(name, pages) : undefined;
    if (table !== undefined) {
      ignored.push({ name, why: `a Notion database table: its rows are the pages in ${table}/` });
      continue;
    }
    if (entry.refused !== undefined) {
      items.push({ entry, format: claimed, refused: entry.refused });
      continue;
    }
    let format = claimed;
    if (forced === undefined && refineBytes(claimed) > 0) {
      // A damaged entry (a zip whose directory misstates it) fails alone, in its place; what
      // could be read of its head still says which export it was (so the rest is judged so).
      const broken: { error?: unknown } = {};
      format = await sniff(headUntilError(entry, broken), claimed);
      if (broken.error !== undefined) {
        const message = (broken.error as Error).message;
        const why = `the entry cannot be read (the archive is damaged here): ${message}`;
        items.push({ entry, format, refused: why });
        continue;
      }
    }
    items.push({ entry, format });
  }
  const exportFormat = items.find((i) => findFormat(i.format)?.refines)?.format;
  // A conversations.json too damaged to tell which app's export it is: still an app export
  // (ChatGPT and Claude both name it so), so its other .json files are not taken for records.
  const damagedExport =
    exportFormat === undefined &&
    forced === undefined &&
    items.some((i) => i.refused !== undefined && /(^|\/)conversations\.json$/i.test(i.entry.name));
  if (exportFormat !== undefined || damagedExport) {
    const what = exportFormat ?? 'app';
    items = items.filter((i) => {
      if (i.refused !== undefined || (exportFormat !== undefined && i.format === exportFormat))
        return true;
      if (damagedExport && i.format !== 'json') return true;
      ignored.push({ name: i.entry.name, why: `not part of the ${what} export's conversations` });
      return false;
    });
  }
  return { items, ignored };
}

/** An entry's bytes until opening or reading them fails (the error is kept in `broken`). */
async function* headUntilError(
  entry: ContainerEntry,
  broken: { error?: unknown },
): AsyncGenerator<Buffer> {
  try {
    for await (const chunk of await entry.open()) yield chunk;
  } catch (err) {
    broken.error = err;
  }
}

/**
 * The files of a folder, walked depth first in name order (the same order on every run and
 * machine). Hidden files and folders are skipped; a symlink is read only when it points at a
 * file inside the folder, and never descended into as a folder (no loops, nothing outside).
 * A file is read once: a link to a file the walk lists is left out (said so), as is a second
 * link to one file, so the file is not sent twice under two names (a note's id is its path).
 */
async function folderEntries(dir: string): Promise<(ContainerEntry & { path: string })[]> {
  const root = await realpath(dir);
  const out: (ContainerEntry & { path: string })[] = [];
  /** Each link read, with the real path of the file it points at. */
  const links = new Map<ContainerEntry, string>();
  const walk = async (at: string): Promise<void> => {
    // In code unit order (sort's default), not locale order: the same on every machine.
    const names = (await readdir(at)).sort();
    for (const n of names) {
      if (n.startsWith('.')) continue;
      const path = join(at, n);
      const name = relative(dir, path).split(sep).join('/');
      const info = await lstat(path);
      if (info.isDirectory()) {
        await walk(path);
        continue;
      }
      let target: string | undefined;
      if (info.isSymbolicLink()) {
        target = await realpath(path).catch(() => undefined);
        if (target === undefined || !(target + sep).startsWith(root + sep)) continue;
        if (!(await stat(target)).isFile()) continue;
      } else if (!info.isFile()) continue;
      const entry = {
        name,
        path,
        open: async () => (await import('node:fs')).createReadStream(path),
      };
      if (target !== undefined) links.set(entry, target);
      out.push(entry);
    }
  };
  await walk(dir);
  // The walk descends no link, so a file it found is at its name under the real folder.
  const named = new Map<string, string>();
  for (const e of out) if (!links.has(e)) named.set(join(root, ...e.name.split('/')), e.name);
  for (const [e, target] of links) {
    const first = named.get(target);
    if (first === undefined) named.set(target, e.name);
    else e.skip = `a link to ${first}, which is read under its own name`;
  }
  return out;
}

/** A folder given as an input: the files to read in it, and what was left out. */
export async function folderInputs(
  dir: string,
  forced: InputFormat | undefined,
): Promise<{
  files: string[];
  /** Each file's path inside the folder (`/`-separated). */
  names: Map<string, string>;
  entries: EntriesEvent;
}> {
  const { refinedFormatOf } = await import('./readers/index.js');
  const plan = await planEntries(await folderEntries(dir), forced, refinedFormatOf);
  const files = plan.items.map((i) => i.entry.path);
  if (files.length === 0) {
    throw new UsageError(`${dir}: no file in this folder is in a format synap reads`, {
      hints: ['Name the files to read, with --format when their names say no format.'],
    });
  }
  const names = new Map(plan.items.map((i) => [i.entry.path, i.entry.name]));
  return {
    files,
    names,
    entries: {
      source: dir,
      used: plan.items.map((i) => ({ name: i.entry.name, format: i.format! })),
      ignored: plan.ignored,
      refused: [],
    },
  };
}
