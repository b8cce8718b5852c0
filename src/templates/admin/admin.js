// Progressive enhancement: a "select all" box for the bulk actions.
document.querySelectorAll('[data-select-all]').forEach(function (box) {
  box.hidden = false;
  box.querySelector('input').addEventListener('change', function (e) {
    document.querySelectorAll('input[name=ids]').forEach(function (c) { c.checked = e.target.checked; });
  });
});
