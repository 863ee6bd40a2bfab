import { crc32, deflateRawSync } from 'node:zlib';

/** One entry of a zip written by `zipOf`. */
export interface ZipEntrySpec {
  name: string;
  data: Buffer | string;
  /** Stored instead of deflated. */
  store?: boolean;
  /** Sets the "encrypted" flag (the data is left as it is: only the flag is looked at). */
  encrypted?: boolean;
  /** Claims this uncompressed size in the headers instead of the real one. */
  claimSize?: number;
  /** Claims this CRC-32 in the headers instead of the real one (a damaged archive). */
  claimCrc?: number;
  /** The entry's modification time (DOS local time, 2-second steps); none (zero) otherwise. */
  modified?: Date;
  /**
   * The index of an earlier entry whose data this one's directory record points at (no data
   * of its own): entries that overlap, as a zip bomb makes them to inflate one kernel often.
   */
  dataOf?: number;
}

/** A time as the DOS time and date words of a zip header (local time, as archivers write it). */
function dosTime(d: Date | undefined): { time: number; date: number } {
  if (!d) return { time: 0, date: 0 };
  return {
    time: (d.getHours() << 11) | (d.getMinutes() << 5) | Math.floor(d.getSeconds() / 2),
    date: ((d.getFullYear() - 1980) << 9) | ((d.getMonth() + 1) << 5) | d.getDate(),
  };
}

/**
 * A zip archive in memory (PKWARE APPNOTE 4.3: local headers, central directory, end record;
 * no zip64), so tests can make the archives real exports are and the hostile ones (unsafe
 * names, encrypted entries, lying sizes) that no archiver writes on purpose.
 */
export function zipOf(entries: ZipEntrySpec[]): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  /** Each entry's directory fields, for an entry that points at its data (dataOf). */
  const written: { at: number; crc: number; body: number; size: number; method: number }[] = [];
  for (const e of entries) {
    if (e.dataOf !== undefined) {
      const of = written[e.dataOf]!;
      const name = Buffer.from(e.name);
      const central = Buffer.alloc(46);
      central.writeUInt32LE(0x02014b50, 0);
      central.writeUInt16LE(20, 4);
      central.writeUInt16LE(20, 6);
      central.writeUInt16LE(0x0800, 8);
      central.writeUInt16LE(of.method, 10);
      central.writeUInt32LE(of.crc, 16);
      central.writeUInt32LE(of.body, 20);
      central.writeUInt32LE(of.size, 24);
      central.writeUInt16LE(name.length, 28);
      central.writeUInt32LE(of.at, 42);
      centrals.push(central, name);
      written.push(of);
      continue;
    }
    const data = Buffer.isBuffer(e.data) ? e.data : Buffer.from(e.data);
    const body = e.store ? data : deflateRawSync(data);
    const name = Buffer.from(e.name);
    const flags = 0x0800 | (e.encrypted ? 0x0001 : 0);
    const method = e.store ? 0 : 8;
    const crc = e.claimCrc ?? crc32(data);
    const size = e.claimSize ?? data.length;
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(flags, 6);
    local.writeUInt16LE(method, 8);
    const when = dosTime(e.modified);
    local.writeUInt16LE(when.time, 10);
    local.writeUInt16LE(when.date, 12);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(body.length, 18);
    local.writeUInt32LE(size, 22);
    local.writeUInt16LE(name.length, 26);
    local.writeUInt16LE(0, 28);
    locals.push(local, name, body);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(flags, 8);
    central.writeUInt16LE(method, 10);
    central.writeUInt16LE(when.time, 12);
    central.writeUInt16LE(when.date, 14);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(body.length, 20);
    central.writeUInt32LE(size, 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt32LE(offset, 42);
    centrals.push(central, name);
    written.push({ at: offset, crc, body: body.length, size, method });
    offset += local.length + name.length + body.length;
  }
  const cd = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(cd.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, cd, end]);
}
