import { parseExpr } from './parser/parser';
import { exprToString } from './parser/ast';
const qs = (process.env.Q ?? '').split('\n').filter(Boolean);
test('smoke', () => {
  for (const q of qs) {
    try { const e = parseExpr(q); console.log(q, ' => ', exprToString(e), JSON.stringify(e, (k, v) => (k === 'pos' || k==='func' ? undefined : v))); }
    catch (e) { console.log(q, ' => ERR ', (e as Error).message); }
  }
});
