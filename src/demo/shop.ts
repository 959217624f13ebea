import type { Connection } from 'mysql2/promise';

/**
 * The demo's `shop` database in MariaDB: customers, products and orders, seeded with rows of
 * every common kind (decimals, microsecond times, JSON, enums, emoji), and a writer that keeps
 * inserting, updating and deleting while the pipeline runs.
 */
export const SHOP_DDL = [
  `CREATE TABLE customers (
     id INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
     name VARCHAR(100) NOT NULL,
     email VARCHAR(200) NOT NULL,
     balance DECIMAL(12,2) NOT NULL DEFAULT 0,
     vip BOOLEAN NOT NULL DEFAULT FALSE,
     created_at DATETIME(6) NOT NULL
   ) CHARACTER SET utf8mb4`,
  `CREATE TABLE products (
     id INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
     sku CHAR(12) NOT NULL,
     name VARCHAR(200) NOT NULL,
     price DECIMAL(10,2) NOT NULL,
     stock INT NOT NULL,
     attributes JSON NULL
   ) CHARACTER SET utf8mb4`,
  `CREATE TABLE orders (
     id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
     customer_id INT UNSIGNED NOT NULL,
     product_id INT UNSIGNED NOT NULL,
     quantity SMALLINT NOT NULL,
     total DECIMAL(14,2) NOT NULL,
     status ENUM('new','paid','shipped','cancelled') NOT NULL DEFAULT 'new',
     note TEXT NULL,
     ordered_at TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6)
   ) CHARACTER SET utf8mb4`,
];

const FIRST = ['Ana', 'Bo', 'Chidi', 'Dara', 'Émile', 'Farah', 'Gus', 'Hana', 'Ivo', 'Jun', 'Kemal', 'Lía'];
const LAST = ['Okafor', 'Silva', 'Nguyen', 'Müller', 'Kowalski', 'Haddad', 'Sato', 'Rossi', 'Öztürk', 'Ng'];
const NOTES = [null, 'gift wrap 🎁', 'leave at the door', 'fragile — handle with care', 'rush 🚀', ''];
const STATUSES = ['new', 'paid', 'shipped', 'cancelled'] as const;

/** A small deterministic PRNG, so the demo data is the same on every run. */
export function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const pick = <T>(rnd: () => number, list: readonly T[]): T => list[Math.floor(rnd() * list.length)] as T;
const micros = (rnd: () => number) => String(Math.floor(rnd() * 1_000_000)).padStart(6, '0');

function customerRow(rnd: () => number, i: number): unknown[] {
  const name = `${pick(rnd, FIRST)} ${pick(rnd, LAST)}`;
  const day = String(1 + Math.floor(rnd() * 28)).padStart(2, '0');
  return [
    name,
    `customer${i}@example.com`,
    (rnd() * 5000).toFixed(2),
    rnd() < 0.1,
    `2025-0${1 + Math.floor(rnd() * 9)}-${day} 1${Math.floor(rnd() * 10)}:2${Math.floor(rnd() * 10)}:00.${micros(rnd)}`,
  ];
}

function productRow(rnd: () => number, i: number): unknown[] {
  const attrs = JSON.stringify({ color: pick(rnd, ['red', 'green', 'blue']), weight_g: Math.floor(rnd() * 2000) });
  return [
    `SKU-${String(i).padStart(8, '0')}`,
    `Product ${i}`,
    (1 + rnd() * 300).toFixed(2),
    Math.floor(rnd() * 1000),
    attrs,
  ];
}

function orderRow(rnd: () => number, customers: number, products: number): unknown[] {
  const qty = 1 + Math.floor(rnd() * 5);
  return [
    1 + Math.floor(rnd() * customers),
    1 + Math.floor(rnd() * products),
    qty,
    (qty * (1 + rnd() * 300)).toFixed(2),
    pick(rnd, STATUSES),
    pick(rnd, NOTES),
  ];
}

async function insertMany(conn: Connection, sql: string, rows: unknown[][]): Promise<void> {
  for (let i = 0; i < rows.length; i += 500) await conn.query(sql, [rows.slice(i, i + 500)]);
}

export interface SeedSizes {
  customers: number;
  products: number;
  orders: number;
}

/** Creates `db` afresh (dropping a previous demo's) and seeds it. Needs a root connection. */
export async function createShop(conn: Connection, db: string, sizes: SeedSizes): Promise<void> {
  await conn.query('DROP DATABASE IF EXISTS ??', [db]);
  await conn.query('CREATE DATABASE ?? CHARACTER SET utf8mb4', [db]);
  await conn.query('USE ??', [db]);
  for (const ddl of SHOP_DDL) await conn.query(ddl);
  const rnd = prng(42);
  await insertMany(
    conn,
    'INSERT INTO customers (name, email, balance, vip, created_at) VALUES ?',
    Array.from({ length: sizes.customers }, (_, i) => customerRow(rnd, i + 1)),
  );
  await insertMany(
    conn,
    'INSERT INTO products (sku, name, price, stock, attributes) VALUES ?',
    Array.from({ length: sizes.products }, (_, i) => productRow(rnd, i + 1)),
  );
  await insertMany(
    conn,
    'INSERT INTO orders (customer_id, product_id, quantity, total, status, note) VALUES ?',
    Array.from({ length: sizes.orders }, () => orderRow(rnd, sizes.customers, sizes.products)),
  );
}

export interface WriterStats {
  transactions: number;
  /** Transactions that failed and were rolled back. */
  errors: number;
  inserts: number;
  updates: number;
  deletes: number;
}

/**
 * Keeps writing to the shop until `signal` aborts: small transactions of inserts, updates
 * (including primary-key changes) and deletes, as an application would.
 */
export async function runWriter(
  conn: Connection,
  sizes: SeedSizes,
  signal: AbortSignal,
  txPerSecond = 100,
): Promise<WriterStats> {
  const rnd = prng(7);
  const stats: WriterStats = { transactions: 0, errors: 0, inserts: 0, updates: 0, deletes: 0 };
  const pause = 1000 / txPerSecond;
  while (!signal.aborted) {
    const started = Date.now();
    try {
      await writeOne(conn, rnd, sizes, stats);
      stats.transactions++;
    } catch (err) {
      // An application sees errors too (a lock wait, a constraint); it rolls back and goes on.
      await conn.rollback().catch(() => undefined);
      stats.errors++;
      if (stats.errors > 100) throw err;
    }
    const wait = pause - (Date.now() - started);
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  }
  return stats;
}

async function writeOne(conn: Connection, rnd: () => number, sizes: SeedSizes, stats: WriterStats): Promise<void> {
  await conn.beginTransaction();
  const r = rnd();
  if (r < 0.45) {
    await conn.query('INSERT INTO orders (customer_id, product_id, quantity, total, status, note) VALUES (?)', [
      orderRow(rnd, sizes.customers, sizes.products),
    ]);
    stats.inserts++;
  } else if (r < 0.75) {
    await conn.query('UPDATE orders SET status = ?, total = total + 1.25 WHERE id = ?', [
      pick(rnd, STATUSES),
      1 + Math.floor(rnd() * sizes.orders),
    ]);
    await conn.query('UPDATE products SET stock = stock - 1 WHERE id = ?', [1 + Math.floor(rnd() * sizes.products)]);
    stats.updates += 2;
  } else if (r < 0.85) {
    await conn.query('UPDATE customers SET balance = balance + ?, vip = NOT vip WHERE id = ?', [
      (rnd() * 100).toFixed(2),
      1 + Math.floor(rnd() * sizes.customers),
    ]);
    stats.updates++;
  } else if (r < 0.95) {
    await conn.query('DELETE FROM orders WHERE id = ?', [1 + Math.floor(rnd() * sizes.orders)]);
    stats.deletes++;
  } else {
    // A primary-key change (travels as a delete of the old key and a create of the new one),
    // to a key no row has: one past the highest, read under lock in this transaction.
    const [rows] = await conn.query('SELECT MAX(id) AS top FROM orders FOR UPDATE');
    const top = BigInt((rows as Array<{ top: string | number | null }>)[0]?.top ?? 0);
    await conn.query('UPDATE orders SET id = ? WHERE id = ?', [String(top + 1n), 1 + Math.floor(rnd() * sizes.orders)]);
    stats.updates++;
  }
  await conn.commit();
}
