#!/usr/bin/env node
// Schema-aware validation of Kubernetes manifests, without a cluster.
//
// usage: node scripts/cluster/validate-k8s.mjs [FILE.yaml...]
//        (default: scripts/cluster/k8s-indexed-job.yaml)
//
// Each YAML document is checked three ways:
//   1. the OpenAPI schema of its kind (kubernetes-models: compiled JSON
//      schemas of the Kubernetes API): types, enums (completionMode),
//      required fields, formats (quantities, int32);
//   2. strictly: every field must exist in the API type, recursively, as
//      kubectl --validate=strict would insist (@kubernetes/client-node's
//      attribute maps), so a misspelt `completionMod` is an error, not
//      silently ignored;
//   3. this project's rules: an Indexed Job's SHARDS equals its completions,
//      its shard command uses JOB_COMPLETION_INDEX, and the merge Job waits
//      for the same number of shards.
// The packages come from build/tools/k8s-validate (test_k8s_manifest installs
// them with npm ci from scripts/cluster/k8s-validate/), or from the
// directory in IMC_K8S_TOOLS.
//
// Exit status: 0 valid, 1 invalid, 2 usage error or tools missing.
import fs from "node:fs";
import path from "node:path";
import { createRequire } from "node:module";
import { fileURLToPath, pathToFileURL } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, "..", "..");
const tools = process.env.IMC_K8S_TOOLS || path.join(root, "build", "tools", "k8s-validate");
const PROG = "validate-k8s";

const args = process.argv.slice(2);
if (args.includes("-h") || args.includes("--help")) {
  console.log("usage: node scripts/cluster/validate-k8s.mjs [FILE.yaml...]\n" +
    "Validates Kubernetes manifests against the API schema, strictly (unknown fields\n" +
    "are errors), plus imcore's Indexed Job rules. Default file:\n" +
    "scripts/cluster/k8s-indexed-job.yaml. Tools: " + tools);
  process.exit(0);
}
const files = args.length ? args : [path.join(here, "k8s-indexed-job.yaml")];

let YAML, k8s, req;
try {
  req = createRequire(path.join(tools, "package.json"));
  YAML = req("yaml");
  k8s = await import(pathToFileURL(req.resolve("@kubernetes/client-node")).href);
} catch (e) {
  console.error(`${PROG}: validation packages not found in ${tools} (run scripts/setup): ${e.message.split("\n")[0]}`);
  process.exit(2);
}

// ---- 1. schema (kubernetes-models) --------------------------------------
function schemaModel(apiVersion, kind) {
  const [group, version] = apiVersion.includes("/") ? apiVersion.split("/") : [null, apiVersion];
  const dir = group === null ? version : `${group}/${version}`;
  try {
    return req(`kubernetes-models/${dir}/${kind}`)[kind];
  } catch {
    return undefined;
  }
}

// ---- 2. strict fields (client-node attribute maps) ------------------------
const LEAF = new Set(["string", "number", "boolean", "Date", "object", "any", "IntOrString"]);

function strict(value, type, at, errors) {
  if (value === null || value === undefined || LEAF.has(type))
    return;
  let m = /^Array<(.+)>$/.exec(type);
  if (m) {
    if (!Array.isArray(value))
      errors.push(`${at}: expected a list`);
    else
      value.forEach((v, i) => strict(v, m[1], `${at}[${i}]`, errors));
    return;
  }
  m = /^\{ \[key: string\]: (.+); \}$/.exec(type);
  if (m) {
    if (typeof value !== "object" || Array.isArray(value))
      errors.push(`${at}: expected a map`);
    else
      for (const [k, v] of Object.entries(value))
        strict(v, m[1], `${at}.${k}`, errors);
    return;
  }
  const cls = k8s[type];
  if (!cls || typeof cls.getAttributeTypeMap !== "function") {
    errors.push(`${at}: no API type ${type} to check against`);
    return;
  }
  if (typeof value !== "object" || Array.isArray(value)) {
    errors.push(`${at}: expected an object (${type})`);
    return;
  }
  const fields = new Map(cls.getAttributeTypeMap().map((a) => [a.baseName, a.type]));
  for (const [k, v] of Object.entries(value)) {
    if (!fields.has(k))
      errors.push(`${at}.${k}: unknown field (not in ${type})`);
    else
      strict(v, fields.get(k), `${at}.${k}`, errors);
  }
}

function strictType(apiVersion, kind) {
  const version = apiVersion.split("/").pop();
  const name = version.charAt(0).toUpperCase() + version.slice(1) + kind;
  return k8s[name] ? name : undefined;
}

// ---- 3. the project's rules -----------------------------------------------
function envOf(container, name) {
  const e = (container.env || []).find((x) => x.name === name);
  return e ? e.value : undefined;
}

function projectRules(docs, errors) {
  const indexed = docs.filter((d) => d.kind === "Job" && d.spec?.completionMode === "Indexed");
  const others = docs.filter((d) => d.kind === "Job" && d.spec?.completionMode !== "Indexed");
  for (const job of indexed) {
    const n = job.spec.completions;
    const where = `Job/${job.metadata?.name}`;
    if (!Number.isInteger(n) || n < 1)
      errors.push(`${where}: an Indexed Job needs spec.completions`);
    for (const c of job.spec.template?.spec?.containers || []) {
      const text = [...(c.command || []), ...(c.args || [])].join(" ");
      if (!text.includes("JOB_COMPLETION_INDEX"))
        errors.push(`${where}: container ${c.name} does not use JOB_COMPLETION_INDEX`);
      if (String(envOf(c, "SHARDS")) !== String(n))
        errors.push(`${where}: container ${c.name} has SHARDS=${envOf(c, "SHARDS")}, completions is ${n}`);
    }
    for (const m of others) {
      const pod = m.spec.template?.spec || {};
      for (const c of [...(pod.initContainers || []), ...(pod.containers || [])]) {
        const s = envOf(c, "SHARDS");
        if (s !== undefined && String(s) !== String(n))
          errors.push(`Job/${m.metadata?.name}: container ${c.name} waits for SHARDS=${s}, ${where} has ${n} completions`);
      }
    }
  }
}

// ---- main -------------------------------------------------------------------
let bad = 0;
for (const file of files) {
  let text;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (e) {
    console.error(`${PROG}: ${file}: ${e.message}`);
    process.exit(2);
  }
  const parsed = YAML.parseAllDocuments(text, { prettyErrors: true, uniqueKeys: true });
  const docs = [];
  const errors = [];
  parsed.forEach((doc, i) => {
    const where = `document ${i + 1}`;
    for (const e of doc.errors)
      errors.push(`${where}: YAML: ${e.message.split("\n")[0]}`);
    if (doc.errors.length)
      return;
    const obj = doc.toJS();
    if (obj === null || obj === undefined)
      return;
    const name = `${where} (${obj.kind}/${obj.metadata?.name})`;
    if (typeof obj.apiVersion !== "string" || typeof obj.kind !== "string") {
      errors.push(`${where}: apiVersion and kind are required`);
      return;
    }
    const Model = schemaModel(obj.apiVersion, obj.kind);
    const type = strictType(obj.apiVersion, obj.kind);
    if (!Model || !type) {
      errors.push(`${name}: unknown apiVersion/kind ${obj.apiVersion} ${obj.kind}`);
      return;
    }
    try {
      new Model(obj).validate();
    } catch (e) {
      for (const line of String(e.message).split(/, (?=data)/))
        errors.push(`${name}: schema: ${line.trim()}`);
    }
    strict(obj, type, `${name}: `, errors);
    docs.push(obj);
  });
  projectRules(docs, errors);
  if (errors.length) {
    bad++;
    for (const e of errors)
      console.error(`${file}: ${e}`);
  } else {
    console.log(`${file}: ${docs.length} documents valid (${docs.map((d) => `${d.kind}/${d.metadata?.name}`).join(", ")}): ` +
      `Kubernetes API schema (kubernetes-models ${req("kubernetes-models/package.json").version}), ` +
      `strict fields (@kubernetes/client-node ${req("@kubernetes/client-node/package.json").version})`);
  }
}
process.exit(bad ? 1 : 0);
