// Jest setup provided by Grafana scaffolding
import './.config/jest-setup';

// jsdom lacks these browser APIs that @grafana/ui's components (Combobox, virtualised lists) use.
class ResizeObserverStub {
  observe() {}
  unobserve() {}
  disconnect() {}
}
class IntersectionObserverStub {
  observe() {}
  unobserve() {}
  disconnect() {}
  takeRecords() {
    return [];
  }
}
Object.assign(global, {
  ResizeObserver: global.ResizeObserver ?? ResizeObserverStub,
  IntersectionObserver: global.IntersectionObserver ?? IntersectionObserverStub,
});

// Combobox measures option text on a canvas; jsdom has none, so approximate 7 px a character.
HTMLCanvasElement.prototype.getContext = function getContext() {
  return { font: '', measureText: (text) => ({ width: String(text).length * 7 }) };
};
