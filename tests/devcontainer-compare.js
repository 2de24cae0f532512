// What a devcontainer.json says, in lines to compare, as the reference
// implementation (devcontainer read-configuration) reads it or as
// git-sand does (config --json, and a sandbox's environment):
//
//   node devcontainer-compare.js reference <ref.json> <workspace>
//   node devcontainer-compare.js git-sand <config.json> <environ> <ref.json>
//
// Lines: "image <name>" or "image built from <dockerfile>", "env NAME=value"
// for each variable the reference reads, "<lifecycle key> <json>".
// Where git-sand differs deliberately it is said here, and nowhere else:
// the reference is given the file with its workspaceFolder made /app (the
// test does that), and a value naming one of the container's variables
// (${containerEnv:PATH}) is one the reference leaves for later and git-sand
// leaves out, so it is "(left out)".
'use strict';
const fs = require('fs');
const path = require('path');

const commands = ['onCreateCommand', 'updateContentCommand', 'postCreateCommand',
	'postStartCommand', 'postAttachCommand'];
const read = (f) => JSON.parse(fs.readFileSync(f, 'utf8'));
const out = [];

function envOf(conf) {
	return Object.assign({}, conf.containerEnv || {}, conf.remoteEnv || {});
}

function reference(refFile, workspace) {
	const conf = read(refFile).configuration;

	if (conf.build) {
		const dir = path.dirname(conf.configFilePath.fsPath);
		out.push('image built from ' +
			path.relative(workspace, path.join(dir, conf.build.dockerfile)));
	} else if (conf.image) {
		out.push('image ' + conf.image);
	}
	for (const [k, v] of Object.entries(envOf(conf)))
		out.push('env ' + k + (v.includes('${containerEnv:') ? ' (left out)' : '=' + v));
	for (const k of commands)
		if (k in conf)
			out.push(k + ' ' + JSON.stringify(conf[k]));
}

function gitSand(configFile, environFile, refFile) {
	const config = read(configFile);
	const env = {};
	const built = /^localhost\/git-sand-dc-<hash> \(built from (.*)\)$/;
	const image = config.image.value;

	for (const kv of fs.readFileSync(environFile, 'utf8').split('\0')) {
		const eq = kv.indexOf('=');
		if (eq > 0)
			env[kv.slice(0, eq)] = kv.slice(eq + 1);
	}
	out.push(built.test(image) ? 'image built from ' + image.match(built)[1] :
		 'image ' + image);
	const set = config['devcontainer.env'] ? config['devcontainer.env'].value : [];

	for (const k of Object.keys(envOf(read(refFile).configuration)))
		out.push('env ' + k + (set.includes(k) ? '=' + env[k] : ' (left out)'));
	for (const k of commands) {
		const row = config['devcontainer.' + k];
		if (row)
			out.push(k + ' ' + JSON.stringify(JSON.parse(row.value)));
	}
}

if (process.argv[2] === 'reference')
	reference(process.argv[3], process.argv[4]);
else
	gitSand(process.argv[3], process.argv[4], process.argv[5]);
console.log(out.sort().join('\n'));
