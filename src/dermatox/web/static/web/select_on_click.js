// Inputs marked data-select-on-click select their whole text when clicked (the intake link, to copy it).
// A static file rather than an onclick="" attribute: the Content-Security-Policy forbids inline handlers.
document.addEventListener("click", (event) => {
  const input = event.target.closest("input[data-select-on-click]");
  if (input) input.select();
});
