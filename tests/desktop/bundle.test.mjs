// The desktop app's Linux packages, as `cargo xtask bundle` builds them: the
// .deb holds the binary, the desktop entry and the icons, with complete
// metadata; the .rpm is there too.
import { execFileSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import assert from 'node:assert/strict';

const dir = process.env.BUNDLE_DIR;

function only(sub, extension) {
  const files = readdirSync(join(dir, sub)).filter((f) => f.endsWith(extension));
  assert.equal(files.length, 1, `one ${extension} in ${sub}: ${files}`);
  return join(dir, sub, files[0]);
}

test('the .deb holds the binary, the desktop entry and the icons', { skip: !dir && 'BUNDLE_DIR is not set' }, () => {
  const deb = only('deb', '.deb');
  const files = execFileSync('dpkg-deb', ['-c', deb], { encoding: 'utf8' });
  assert.match(files, / (\.\/)?usr\/bin\/tickstream\n/);
  assert.match(files, / (\.\/)?usr\/share\/applications\/Tickstream\.desktop\n/);
  for (const size of ['32x32', '128x128']) {
    assert.match(files, new RegExp(` (\\./)?usr/share/icons/hicolor/${size}/apps/tickstream\\.png\\n`));
  }
  const field = (name) => execFileSync('dpkg-deb', ['-f', deb, name], { encoding: 'utf8' }).trim();
  assert.equal(field('Package'), 'tickstream');
  assert.match(field('Description'), /Real-time stock-market streaming dashboard/);
  assert.match(field('Maintainer'), /Tickstream/);
  assert.match(field('Depends'), /libwebkit2gtk-4\.1-0/);
  // Unpacked into a throwaway root, the binary is there and executable.
  const root = execFileSync('mktemp', ['-d'], { encoding: 'utf8' }).trim();
  execFileSync('dpkg-deb', ['-x', deb, root]);
  assert.ok(statSync(join(root, 'usr/bin/tickstream')).mode & 0o111);
  const entry = execFileSync('cat', [join(root, 'usr/share/applications/Tickstream.desktop')], { encoding: 'utf8' });
  assert.match(entry, /Exec=tickstream/);
  assert.match(entry, /Categories=.*Finance/);
  execFileSync('rm', ['-rf', root]);
  console.log(`installer size: ${(statSync(deb).size / 1e6).toFixed(1)} MB (.deb)`);
});

test('the .rpm is built beside it', { skip: !dir && 'BUNDLE_DIR is not set' }, () => {
  assert.ok(statSync(only('rpm', '.rpm')).size > 1_000_000);
});
