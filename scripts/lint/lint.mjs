// Lint the HTML graph view's assets: node lint.mjs FILE.js|FILE.css...
//
// JavaScript goes through eslint's recommended rules (a parse error is one of
// its messages), as a classic browser script: each file is linted on its own,
// so a name one file takes from another must be declared with /* global */ in
// the user and /* exported */ in the definer. CSS is parsed by css-tree, which
// also checks every declaration against the CSS grammar (unknown properties,
// values a property cannot take) and reports blocks left open at the end.
//
// Every problem is printed as FILE:LINE:COLUMN: MESSAGE [RULE]; the exit code is
// 1 when there was one, 2 when the command was used wrongly.
import { readFileSync } from "node:fs";
import { basename, dirname, extname, resolve } from "node:path";
import js from "@eslint/js";
import * as csstree from "css-tree";
import { Linter } from "eslint";
import globals from "globals";

const ESLINT_CONFIG = [
  js.configs.recommended,
  {
    languageOptions: {
      ecmaVersion: 2022,
      sourceType: "script",
      globals: globals.browser,
    },
    linterOptions: { reportUnusedDisableDirectives: "error" },
  },
];

function lintJs(file, text) {
  // Config patterns are matched relative to cwd: lint each file from its folder.
  const linter = new Linter({ configType: "flat", cwd: dirname(resolve(file)) });
  return linter.verify(text, ESLINT_CONFIG, { filename: basename(file) }).map((m) => ({
    line: m.line ?? 1,
    column: m.column ?? 1,
    message: m.message,
    rule: m.ruleId ?? (m.fatal ? "syntax" : "eslint"),
  }));
}

function lintCss(file, text) {
  const problems = [];
  const ast = csstree.parse(text, {
    filename: file,
    positions: true,
    onParseError: (e) => problems.push({ line: e.line, column: e.column,
      message: e.message, rule: "syntax" }),
  });
  csstree.walk(ast, (node) => {
    if (node.type === "Block" && text[node.loc.end.offset - 1] !== "}") {
      const { line, column } = node.loc.start;
      problems.push({ line, column, message: "block is never closed: add its '}'",
        rule: "syntax" });
    }
    if (node.type === "Declaration" && !node.property.startsWith("--")) {
      const problem = declarationProblem(node);
      if (problem) problems.push(problem);
    }
  });
  return problems;
}

// A declaration's property must be known; its value must match the property's
// grammar, unless it uses var() (only known once custom properties are resolved).
function declarationProblem(node) {
  const { line, column } = node.loc.start;
  const unknown = csstree.lexer.checkPropertyName(node.property);
  if (unknown) return { line, column, message: unknown.message.replace(/`/g, "'"), rule: "css-grammar" };
  if (csstree.find(node.value, (n) => n.type === "Function" && n.name === "var")) return null;
  const error = csstree.lexer.matchDeclaration(node).error;
  if (!error) return null;
  const syntax = clip(String(error.syntax ?? ""), 72);
  return { line: error.line ?? line, column: error.column ?? column,
    message: `invalid value for '${node.property}': '${error.css}' (expected ${syntax})`,
    rule: "css-grammar" };
}

const clip = (s, n) => (s.length > n ? s.slice(0, n - 3) + "..." : s);

const LINTERS = { ".js": lintJs, ".css": lintCss };

function main(files) {
  if (!files.length) {
    console.error("usage: node lint.mjs FILE.js|FILE.css...");
    return 2;
  }
  let count = 0;
  for (const file of files) {
    const lint = LINTERS[extname(file)];
    if (lint === undefined) {
      console.error(`${file}: not a .js or .css file: only those are linted`);
      return 2;
    }
    for (const p of lint(file, readFileSync(file, "utf8"))) {
      console.log(`${file}:${p.line}:${p.column}: ${p.message} [${p.rule}]`);
      count += 1;
    }
  }
  if (count) console.error(`${count} problem${count === 1 ? "" : "s"} in the assets`);
  return count ? 1 : 0;
}

process.exitCode = main(process.argv.slice(2));
