/**
 * Brands: classes recognised by a process-wide `Symbol.for` key on their prototype instead of
 * `instanceof`, so two copies of a class (two builds, two installed versions) recognise each other.
 */
import { brand, brandedGuard, brandKey, hasBrand } from '../../src/lib/brand.js';

/** A fresh class each call: what a second copy of the library would load. */
function copyOfWidget() {
  return class Widget {
    readonly size = 1;
  };
}

describe('brandKey', () => {
  it('is the registry symbol under the library prefix, the same for every caller', () => {
    expect(brandKey('AuthError')).toBe(Symbol.for('authnz-express.AuthError'));
    expect(brandKey('Widget')).toBe(brandKey('Widget'));
    expect(brandKey('Widget')).not.toBe(brandKey('Gadget'));
  });
});

describe('brand and hasBrand', () => {
  it('recognise instances of another copy of the class and of subclasses; instanceof does not', () => {
    const First = copyOfWidget();
    const Second = copyOfWidget();
    const key = brandKey('test.Widget');
    brand(First, key);
    brand(Second, key);
    class Sub extends First {}
    expect(new Second() instanceof First).toBe(false);
    expect(hasBrand(new Second(), key)).toBe(true);
    expect(hasBrand(new First(), key)).toBe(true);
    expect(hasBrand(new Sub(), key)).toBe(true);
  });

  it('leave unbranded objects, other brands and non-objects out', () => {
    const Plain = copyOfWidget();
    const Branded = copyOfWidget();
    const key = brandKey('test.Plain');
    brand(Branded, brandKey('test.Other'));
    expect(hasBrand(new Plain(), key)).toBe(false);
    expect(hasBrand(new Branded(), key)).toBe(false);
    expect(hasBrand({ [key]: 'yes' }, key)).toBe(false);
    for (const value of [null, undefined, 1, 'text', Symbol.for('x')]) expect(hasBrand(value, key)).toBe(false);
  });

  it('stamp a non-enumerable, read-only property, invisible to JSON and Object.keys', () => {
    const Widget = copyOfWidget();
    const key = brandKey('test.Hidden');
    brand(Widget, key);
    const widget = new Widget();
    expect(Object.keys(widget)).toEqual(['size']);
    expect(JSON.stringify(widget)).toBe('{"size":1}');
    expect(Object.getOwnPropertyDescriptor(Widget.prototype, key)).toEqual({
      value: true,
      enumerable: false,
      writable: false,
      configurable: false,
    });
    expect(() => {
      (Widget.prototype as unknown as Record<symbol, unknown>)[key] = false;
    }).toThrow(TypeError);
  });
});

describe('brandedGuard', () => {
  it('brands the class and returns a guard that recognises every copy branded under the same name', () => {
    const First = copyOfWidget();
    const Second = copyOfWidget();
    const isFirst = brandedGuard(First, 'test.Guarded');
    brandedGuard(Second, 'test.Guarded');
    const isOther = brandedGuard(copyOfWidget(), 'test.Unrelated');
    expect(isFirst(new First())).toBe(true);
    expect(isFirst(new Second())).toBe(true);
    expect(isOther(new First())).toBe(false);
    expect(isFirst({ size: 1 })).toBe(false);
  });
});
