// Load the widget manager's AMD modules, and the fonts they ask for, from this book's
// vendor/npm/ folder rather than from the folder of the page that shows the widget.
(function () {
  var npm = new URL("npm/", document.currentScript.src).href;
  window.__jupyter_widgets_assets_path__ = npm + "@jupyter-widgets/html-manager/dist/";
  require.config({ baseUrl: npm });
})();
