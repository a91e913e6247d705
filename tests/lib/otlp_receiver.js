// SPDX-License-Identifier: Apache-2.0
//
// otlp_receiver: an OTLP/HTTP logs receiver for the tests, which decodes every request with
// the official OpenTelemetry protobuf definitions: the opentelemetry-proto files as compiled
// into @opentelemetry/otlp-transformer's generated protobufjs module (build/npm, installed by
// `make npm-deps`). Nothing here knows what a log record holds: a request is accepted only if
// the official ExportLogsServiceRequest type takes every field of it, and it survives a round
// trip through the protobuf binary encoding unchanged.
//
//   node otlp_receiver.js DIR [PORT]
//
// Listens on 127.0.0.1:PORT (default: an ephemeral port), written to DIR/port once listening. How it
// answers is read from DIR/mode at each request (absent: ok):
//   ok              decode; 200 {} (a request that does not decode: 400, and DIR/errors.jsonl)
//   partial N       decode; 200 with partialSuccess.rejectedLogRecords N
//   status N        N with a short text body, nothing decoded or kept (500, 429, 400, ...)
//   garbage         decode; 200 with a body that is not JSON
//   huge            decode; 200 with a 4 MiB body
//   slow MS         wait MS, then drop the connection: nothing decoded or kept
// Each log record decoded is one line of DIR/logs.jsonl: {"resource": {attributes},
// "scope": ..., "record": the decoded LogRecord with traceId/spanId in hex and its attributes
// as a {key: value} map}; each request accepted one line of DIR/requests.jsonl.
'use strict';

const fs = require('fs');
const http = require('http');
const path = require('path');

const root = require('@opentelemetry/otlp-transformer/build/src/generated/root');
const Req = root.opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest;

const dir = process.argv[2];
const BODY_MAX = 64 << 20;

function mode() {
	try {
		return fs.readFileSync(path.join(dir, 'mode'), 'utf8').trim().split(/\s+/);
	} catch (e) {
		return ['ok'];
	}
}

// OTLP/HTTP JSON's documented difference from the proto3 JSON mapping: trace and span ids are
// hex, not base64. Everything else is proto3 JSON, which protobufjs's fromObject reads.
function idsToBytes(o, where) {
	if (Array.isArray(o)) {
		o.forEach((v, i) => idsToBytes(v, `${where}[${i}]`));
		return;
	}
	if (!o || typeof o !== 'object')
		return;
	for (const k of Object.keys(o)) {
		if (k === 'traceId' || k === 'spanId') {
			const n = k === 'traceId' ? 32 : 16;
			if (typeof o[k] !== 'string' || !new RegExp(`^[0-9a-fA-F]{${n}}$`).test(o[k]))
				throw new Error(`${where}.${k}: not ${n} hex digits: ${JSON.stringify(o[k])}`);
			o[k] = Buffer.from(o[k], 'hex');
		} else {
			idsToBytes(o[k], `${where}.${k}`);
		}
	}
}

function bytesToHex(o) {
	if (Array.isArray(o))
		return o.forEach(bytesToHex);
	if (!o || typeof o !== 'object')
		return;
	for (const k of Object.keys(o)) {
		if (k === 'traceId' || k === 'spanId')
			o[k] = Buffer.from(o[k], 'base64').toString('hex');
		else
			bytesToHex(o[k]);
	}
}

function isDefault(v) {
	return v === 0 || v === '0' || v === '' || v === false || (Array.isArray(v) && !v.length);
}

// Every member of the request as sent must be in what the official type decoded, with the
// same value: a member the schema does not know (or a value it could not hold) is dropped or
// changed by the round trip. Defaults are omitted by protobuf and need not survive.
function sameAsSent(sent, got, where) {
	if (Array.isArray(sent)) {
		if (!Array.isArray(got) || got.length !== sent.length)
			throw new Error(`${where}: ${sent.length} entries sent, ${got && got.length} decoded`);
		sent.forEach((v, i) => sameAsSent(v, got[i], `${where}[${i}]`));
		return;
	}
	if (sent && typeof sent === 'object') {
		if (!got || typeof got !== 'object')
			throw new Error(`${where}: an object sent, ${JSON.stringify(got)} decoded`);
		for (const k of Object.keys(sent)) {
			if (!(k in got)) {
				if (isDefault(sent[k]))
					continue;
				throw new Error(`${where}.${k}: not a field of the OTLP schema`);
			}
			sameAsSent(sent[k], got[k], `${where}.${k}`);
		}
		return;
	}
	if (String(sent) !== String(got))
		throw new Error(`${where}: ${JSON.stringify(sent)} sent, ${JSON.stringify(got)} decoded`);
}

// An AnyValue as a plain value: strings, ints (as their decimal strings), arrays, maps.
function plain(v) {
	if (!v)
		return null;
	if ('stringValue' in v)
		return v.stringValue;
	if ('intValue' in v)
		return String(v.intValue);
	if ('boolValue' in v)
		return v.boolValue;
	if ('doubleValue' in v)
		return v.doubleValue;
	if ('arrayValue' in v)
		return (v.arrayValue.values || []).map(plain);
	if ('kvlistValue' in v)
		return attrs(v.kvlistValue.values);
	return null;
}

function attrs(list) {
	const o = {};
	for (const kv of list || [])
		o[kv.key] = plain(kv.value);
	return o;
}

// Decode one request body. Returns the log records, or throws why it is not OTLP.
function decode(body) {
	const sent = JSON.parse(body);
	const obj = JSON.parse(body);
	idsToBytes(obj, 'request');
	const err = Req.verify(Req.fromObject(obj));
	if (err)
		throw new Error(err);
	const wire = Req.encode(Req.fromObject(obj)).finish();
	const got = Req.toObject(Req.decode(wire), {longs: String, enums: Number, bytes: String});
	bytesToHex(got);
	sameAsSent(sent, got, 'request');
	const out = [];
	for (const rl of got.resourceLogs || [])
		for (const sl of rl.scopeLogs || [])
			for (const lr of sl.logRecords || []) {
				const rec = Object.assign({}, lr, {attributes: attrs(lr.attributes)});
				out.push({resource: attrs(rl.resource && rl.resource.attributes),
					  scope: sl.scope || null, record: rec});
			}
	return out;
}

function append(name, lines) {
	if (lines.length)
		fs.appendFileSync(path.join(dir, name), lines.map(l => JSON.stringify(l) + '\n').join(''));
}

const server = http.createServer((req, res) => {
	const m = mode();
	const chunks = [];
	let size = 0;

	if (m[0] === 'slow') {
		setTimeout(() => req.socket.destroy(), Number(m[1]));
		return;
	}
	req.on('data', c => {
		size += c.length;
		if (size <= BODY_MAX)
			chunks.push(c);
	});
	req.on('end', () => {
		if (m[0] === 'status') {
			res.writeHead(Number(m[1]), {'Content-Type': 'text/plain'});
			return res.end(`receiver says ${m[1]}\n`);
		}
		let logs;
		try {
			if (req.method !== 'POST' || req.url !== '/v1/logs')
				throw new Error(`${req.method} ${req.url}: not POST /v1/logs`);
			if (!/^application\/json\b/.test(req.headers['content-type'] || ''))
				throw new Error(`content-type ${req.headers['content-type']}`);
			logs = decode(Buffer.concat(chunks).toString('utf8'));
		} catch (e) {
			append('errors.jsonl', [{error: String(e.message || e)}]);
			res.writeHead(400, {'Content-Type': 'application/json'});
			return res.end(JSON.stringify({code: 3, message: String(e.message || e)}));
		}
		append('logs.jsonl', logs);
		append('requests.jsonl', [{records: logs.length, headers: req.headers}]);
		res.writeHead(200, {'Content-Type': 'application/json'});
		if (m[0] === 'partial')
			return res.end(JSON.stringify({partialSuccess: {rejectedLogRecords: m[1],
									 errorMessage: 'too old'}}));
		if (m[0] === 'garbage')
			return res.end('\u0000\u00ff not json {{{');
		if (m[0] === 'huge')
			return res.end(Buffer.alloc(4 << 20, 'x'));
		res.end('{}');
	});
});

server.listen(Number(process.argv[3] || 0), '127.0.0.1', () => {
	const tmp = path.join(dir, 'port.tmp');
	fs.writeFileSync(tmp, String(server.address().port));
	fs.renameSync(tmp, path.join(dir, 'port'));
});
process.on('SIGTERM', () => process.exit(0));
