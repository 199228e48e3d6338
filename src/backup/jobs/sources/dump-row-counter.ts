import { Transform, type TransformCallback } from 'node:stream';

/**
 * Counts the rows of each table in a `mariadb-dump` stream as it passes through, unchanged.
 *
 * The counts are what the backup holds — taken from the same consistent snapshot
 * (`--single-transaction`) the dump was written from, which a separate `SELECT COUNT(*)` on
 * another connection could not be — so a restore drill can prove that every row the backup
 * recorded came back. mariadb-dump writes each table as `CREATE TABLE \`name\` (` … and its rows
 * as extended inserts, the rows on the statement's line or (MariaDB 10.11+) one per line:
 *
 *   INSERT INTO `orders` VALUES (1,'a',NULL),(2,'it''s \'quoted\' (not a row)',0x00FF);
 *   INSERT INTO `orders` VALUES
 *   (3,'b\n(c'),
 *   (4,NULL);
 *
 * A row is a parenthesis opened at depth 0 outside a string literal. String literals use single
 * quotes with backslash escapes (MariaDB docs, "String Literals"); `''` toggles the literal off
 * and on again, which counts the same. Binary columns are hex (`--hex-blob`). Lines that are not
 * CREATE TABLE or INSERT are skipped without being buffered.
 */
export class DumpRowCounter extends Transform {
  readonly #counts = new Map<string, number>();
  /** The start of the current line, while it may still be a CREATE TABLE or INSERT. */
  #head = '';
  #mode: 'head' | 'skip' | 'values' = 'head';
  #table = '';
  #depth = 0;
  #inString = false;
  #escaped = false;

  /** Rows per table, in the order the tables appear; tables without rows count 0. */
  counts(): Record<string, number> {
    return Object.fromEntries(this.#counts);
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.#scan(chunk);
    callback(null, chunk);
  }

  #scan(chunk: Buffer): void {
    for (let i = 0; i < chunk.length; i++) {
      const byte = chunk[i]!;
      switch (this.#mode) {
        case 'skip':
          if (byte === NEWLINE) this.#mode = 'head';
          else {
            // Skip to the end of the line in one step.
            const end = chunk.indexOf(NEWLINE, i);
            if (end === -1) return;
            i = end - 1;
          }
          break;
        case 'head':
          this.#readHead(byte);
          break;
        case 'values':
          this.#readValues(byte);
          break;
      }
    }
  }

  #readHead(byte: number): void {
    // `INSERT INTO \`t\` VALUES` ends with a space (rows on the same line) or a newline (MariaDB
    // 10.11+ writes each row on its own line).
    if ((byte === NEWLINE || byte === SPACE) && this.#head.startsWith(INSERT_PREFIX)) {
      const insert = INSERT_INTO.exec(this.#head);
      if (insert !== null) {
        this.#table = unquote(insert[1]!);
        this.#see(this.#table, 0);
        this.#mode = 'values';
        this.#depth = 0;
        this.#inString = false;
        this.#escaped = false;
        this.#head = '';
        return;
      }
    }
    if (byte === NEWLINE) {
      const created = CREATE_TABLE.exec(this.#head);
      if (created !== null) this.#see(unquote(created[1]!), 0);
      this.#head = '';
      return;
    }
    this.#head += String.fromCharCode(byte);
    // Neither statement can start like this (or the name is absurdly long): skip the line.
    if (this.#head.length > MAX_HEAD || !(CREATE_PREFIX.startsWith(this.#head.slice(0, CREATE_PREFIX.length)) || INSERT_PREFIX.startsWith(this.#head.slice(0, INSERT_PREFIX.length)))) {
      this.#head = '';
      this.#mode = 'skip';
    }
  }

  #readValues(byte: number): void {
    if (this.#inString) {
      if (this.#escaped) this.#escaped = false;
      else if (byte === BACKSLASH) this.#escaped = true;
      else if (byte === QUOTE) this.#inString = false;
      return;
    }
    switch (byte) {
      case QUOTE:
        this.#inString = true;
        break;
      case OPEN:
        if (this.#depth === 0) this.#see(this.#table, 1);
        this.#depth++;
        break;
      case CLOSE:
        this.#depth--;
        break;
      case SEMICOLON:
        // The statement's end; the rest of its line is nothing we count.
        if (this.#depth === 0) this.#mode = 'skip';
        break;
    }
  }

  #see(table: string, rows: number): void {
    this.#counts.set(table, (this.#counts.get(table) ?? 0) + rows);
  }
}

const NEWLINE = 0x0a;
const SPACE = 0x20;
const SEMICOLON = 0x3b;
const QUOTE = 0x27;
const BACKSLASH = 0x5c;
const OPEN = 0x28;
const CLOSE = 0x29;
const CREATE_PREFIX = 'CREATE TABLE `';
const INSERT_PREFIX = 'INSERT INTO `';
/** A quoted identifier is at most 64 characters, each backtick doubled: 200 covers any head. */
const MAX_HEAD = 200;
const CREATE_TABLE = /^CREATE TABLE `((?:[^`]|``)+)` \($/;
const INSERT_INTO = /^INSERT INTO `((?:[^`]|``)+)` VALUES$/;

function unquote(name: string): string {
  return Buffer.from(name, 'latin1').toString('utf8').replaceAll('``', '`');
}
