import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { FilesystemBucket } from './filesystem';
import { TEMP_FILE_PREFIX } from './keys';
import { bucketConformance } from './testing/conformance';

const roots: string[] = [];
function tempRoot(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'strata-fsbucket-'));
  roots.push(d);
  return d;
}
afterAll(() => {
  for (const d of roots) fs.rmSync(d, { recursive: true, force: true });
});

function allFiles(dir: string): string[] {
  return (fs.readdirSync(dir, { recursive: true, withFileTypes: true }) as fs.Dirent[])
    .filter((e) => e.isFile())
    .map((e) => path.relative(dir, path.join(e.parentPath ?? e.path, e.name)));
}

describe('FilesystemBucket conformance', () => {
  bucketConformance({ makeBucket: async () => new FilesystemBucket(path.join(tempRoot(), 'bucket')) });
});

describe('FilesystemBucket', () => {
  it('creates its root directory and names itself after it', () => {
    const root = path.join(tempRoot(), 'nested', 'root');
    const b = new FilesystemBucket(root);
    expect(fs.statSync(root).isDirectory()).toBe(true);
    expect(b.name).toBe(`fs: ${root}`);
  });

  it('stores objects as plain files under the root and leaves no temporary files', async () => {
    const root = tempRoot();
    const b = new FilesystemBucket(root);
    await b.upload('tenant-1/01ABC/meta.json', Buffer.from('{}'));
    await b.upload('tenant-1/01ABC/chunks/000001', Readable.from([Buffer.from('ab'), Buffer.from('cd')]));
    expect(allFiles(root).sort()).toEqual([
      path.join('tenant-1', '01ABC', 'chunks', '000001'),
      path.join('tenant-1', '01ABC', 'meta.json'),
    ]);
    expect(fs.readFileSync(path.join(root, 'tenant-1', '01ABC', 'chunks', '000001'), 'utf8')).toBe('abcd');
  });

  it('keeps the old object when a stream upload fails half way (atomic rename)', async () => {
    const root = tempRoot();
    const b = new FilesystemBucket(root);
    await b.upload('t/obj', Buffer.from('old'));
    async function* failing(): AsyncGenerator<Buffer> {
      yield Buffer.from('new-partial-');
      throw new Error('source broke');
    }
    await expect(b.upload('t/obj', Readable.from(failing()))).rejects.toThrow('source broke');
    expect((await b.get('t/obj')).toString()).toBe('old');
    // A failed first upload leaves no object, no temp file and no empty directory.
    await expect(b.upload('u/v/w', Readable.from(failing()))).rejects.toThrow('source broke');
    expect(await b.exists('u/v/w')).toBe(false);
    expect(allFiles(root)).toEqual([path.join('t', 'obj')]);
    expect(fs.existsSync(path.join(root, 'u'))).toBe(false);
    expect(await b.iter('')).toEqual(['t/']);
  });

  it('does not list temporary files of uploads in progress, nor empty directories', async () => {
    const root = tempRoot();
    const b = new FilesystemBucket(root);
    await b.upload('a/x', Buffer.from('x'));
    fs.writeFileSync(path.join(root, 'a', `${TEMP_FILE_PREFIX}deadbeef`), 'partial');
    fs.mkdirSync(path.join(root, 'empty', 'deeper'), { recursive: true });
    expect(await b.iter('')).toEqual(['a/']);
    expect(await b.iter('a')).toEqual(['a/x']);
    expect(await b.iter('', { recursive: true })).toEqual(['a/x']);
  });

  it('removes directories a delete leaves empty, up to the root', async () => {
    const root = tempRoot();
    const b = new FilesystemBucket(root);
    await b.upload('t/b1/chunks/000001', Buffer.from('c'));
    await b.upload('t/b2/meta.json', Buffer.from('m'));
    await b.delete('t/b1/chunks/000001');
    expect(fs.existsSync(path.join(root, 't', 'b1'))).toBe(false);
    expect(fs.existsSync(path.join(root, 't', 'b2'))).toBe(true);
    await b.delete('t/b2/meta.json');
    expect(fs.readdirSync(root)).toEqual([]);
    expect(fs.existsSync(root)).toBe(true);
  });

  it('cannot store a key below an object key (a file is not a directory)', async () => {
    const b = new FilesystemBucket(tempRoot());
    await b.upload('a', Buffer.from('file'));
    await expect(b.upload('a/b', Buffer.from('x'))).rejects.toThrow();
    expect((await b.get('a')).toString()).toBe('file');
    expect(await b.exists('a/b')).toBe(false);
  });
});
