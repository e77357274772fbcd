// e2e.exports_duckdb helper: reads rfmseg's CSV exports with DuckDB (npm @duckdb/node-api) and
// writes what DuckDB saw as JSON for exports_check.py duckdb: BIGINT values as strings, DOUBLE as
// JS numbers (printed shortest round-trip), NULL as null.
//
//   node exports_duckdb.cjs NPM_PREFIX EXPORT_DIR OUT.json
"use strict";
const fs = require("fs");
const path = require("path");

async function main() {
  const [prefix, dir, out] = process.argv.slice(2);
  const duckdb = require(require.resolve("@duckdb/node-api", { paths: [prefix] }));
  const instance = await duckdb.DuckDBInstance.create(":memory:");
  const connection = await instance.connect();
  const doubles = (names) => Object.fromEntries(names.map((n) => [n, "DOUBLE"]));
  const stats = [];
  for (const s of ["mean", "std", "min", "max", "centroid"])
    for (const f of ["recency", "frequency", "monetary"]) stats.push(`${s}_${f}`);
  const tables = {
    customers: {
      file: fs.existsSync(path.join(dir, "customers.csv.gz")) ? "customers.csv.gz" : "customers.csv",
      columns: {
        customer_id: "VARCHAR", recency: "BIGINT", frequency: "BIGINT", monetary: "DOUBLE", r_score: "BIGINT",
        f_score: "BIGINT", m_score: "BIGINT", rfm_score: "BIGINT", segment: "VARCHAR", cluster: "BIGINT",
        cluster_label: "VARCHAR", high_value: "BIGINT",
      },
    },
    clusters: {
      file: "clusters.csv",
      columns: { cluster: "BIGINT", label: "VARCHAR", size: "BIGINT", ...doubles(["share", "revenue_share"]),
                 ...doubles(stats) },
    },
    segments: {
      file: "segments.csv",
      columns: { segment: "BIGINT", name: "VARCHAR", count: "BIGINT",
                 ...doubles(["share", "mean_recency", "mean_frequency", "mean_monetary", "revenue_share"]) },
    },
    selection: {
      file: "selection.csv",
      columns: { k: "BIGINT", ...doubles(["sse", "silhouette", "calinski_harabasz", "davies_bouldin"]),
                 n_iter: "BIGINT", chosen: "BIGINT" },
    },
  };
  const result = {};
  for (const [name, table] of Object.entries(tables)) {
    const file = path.join(dir, table.file);
    if (!fs.existsSync(file)) continue;
    const columns = Object.entries(table.columns).map(([c, t]) => `'${c}': '${t}'`).join(", ");
    // Explicit types (ids stay text), header row, RFC 4180 quotes; compression from the name.
    const sql = `SELECT * FROM read_csv('${file.replace(/'/g, "''")}', header = true, delim = ',', quote = '"', ` +
                `escape = '"', columns = {${columns}})`;
    const reader = await connection.runAndReadAll(sql);
    result[name] = reader.getRowObjectsJS().map((row) =>
      Object.fromEntries(Object.entries(row).map(([k, v]) => [k, typeof v === "bigint" ? v.toString() : v])));
  }
  fs.writeFileSync(out, JSON.stringify(result));
  console.log(`DuckDB ${duckdb.version ? duckdb.version() : ""}: read ` +
              Object.entries(result).map(([k, v]) => `${k} ${v.length} rows`).join(", "));
}

main().catch((error) => {
  console.error(`exports_duckdb: ${error.stack || error}`);
  process.exit(1);
});
