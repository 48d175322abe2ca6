export const VERSION = '0.1.0';
export const BUILD_INFO = {
  version: VERSION,
  revision: '',
  branch: 'main',
  buildUser: '',
  buildDate: '',
  goVersion: `node${process.versions.node}`,
};
