// Packaging as users get it: a prebuilt binary (prebuildify, N-API) goes into
// the tarball, the tarball installs into an empty project without compiling,
// and the README example runs there from JavaScript and from TypeScript.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ROOT } from './helpers';

const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

function run(cmd: string, args: string[], cwd: string): string {
  return execFileSync(cmd, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 600000 });
}

test('npm pack, install into an empty project, run the README example (JS and TS)', () => {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'ringport-pack-'));
  try {
    run(npm, ['run', 'prebuild'], ROOT);
    expect(fs.existsSync(path.join(ROOT, 'prebuilds', `${process.platform}-${process.arch}`, 'ringport.node'))).toBe(true);
    const tarball = run(npm, ['pack', '--silent', '--pack-destination', work], ROOT).trim().split('\n').pop() as string;

    const project = path.join(work, 'project');
    fs.mkdirSync(project);
    fs.writeFileSync(path.join(project, 'package.json'), JSON.stringify({ name: 'user', private: true }));
    run(npm, ['install', '--no-audit', '--no-fund', path.join(work, tarball)], project);
    const installed = path.join(project, 'node_modules', 'ringport');
    // The prebuilt binary was used: nothing was compiled.
    expect(fs.existsSync(path.join(installed, 'build'))).toBe(false);

    fs.copyFileSync(path.join(__dirname, 'package', 'example.js'), path.join(project, 'example.js'));
    expect(run(process.execPath, ['example.js'], project)).toBe(
      'same thread: {"hello":"world"}\nfrom worker: hi true function\n',
    );

    fs.copyFileSync(path.join(__dirname, 'package', 'example.ts'), path.join(project, 'example.ts'));
    const tsc = path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
    run(
      process.execPath,
      [tsc, '--strict', '--module', 'commonjs', '--target', 'es2022', '--moduleResolution', 'node',
        '--types', 'node', '--typeRoots', path.join(ROOT, 'node_modules', '@types'), 'example.ts'],
      project,
    );
    expect(run(process.execPath, ['example.js'], project)).toBe('same thread: {"hello":"world"}\nfrom worker: hi\n');
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
});
