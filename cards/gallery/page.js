// Markdown as Teams renders it in TextBlocks and facts (links found in bare text too).
const MARKDOWN = window.markdownit({ linkify: true });
AdaptiveCards.AdaptiveCard.onProcessMarkdown = (text, result) => {
  result.outputHtml = MARKDOWN.render(text);
  result.didProcess = true;
};
// Renders one card with the official renderer and reports what a reader would miss: errors of
// the renderer, and action titles cut (ellipsis) or pushed out of their row.
window.renderCard = async (payload, width) => {
  const host = document.getElementById("host");
  host.innerHTML = "";
  host.style.width = width + "px";
  const errors = [];
  const adaptive = new AdaptiveCards.AdaptiveCard();
  adaptive.hostConfig = new AdaptiveCards.HostConfig(window.HOST_CONFIG);
  adaptive.onExecuteAction = () => {};
  const context = new AdaptiveCards.SerializationContext();
  adaptive.parse(payload, context);
  for (let i = 0; i < context.eventCount; i++) {
    const event = context.getEventAt(i);
    errors.push("parse: " + event.message);
  }
  const validation = adaptive.validateProperties();
  for (const event of validation.validationEvents) {
    errors.push("validate: " + event.message);
  }
  const rendered = adaptive.render();
  if (!rendered) {
    errors.push("render: nothing was rendered");
    return { errors, cut: [], titles: 0 };
  }
  host.appendChild(rendered);
  await document.fonts.ready;
  const cut = new Set();
  let titles = 0;
  const measure = (where) => {
    for (const button of host.querySelectorAll("button")) {
      if (!button.className.includes("ac-pushButton") || button.offsetParent === null) {
        continue;
      }
      titles += 1;
      const label = button.innerText || button.getAttribute("aria-label") || "?";
      const title = button.querySelector("div") || button;
      if (title.scrollWidth > title.clientWidth + 0.5) {
        cut.add(`"${label}"${where}: cut (${title.scrollWidth} > ${title.clientWidth} px)`);
      }
      const box = button.getBoundingClientRect();
      for (let up = button.parentElement; up && up !== host; up = up.parentElement) {
        const style = getComputedStyle(up);
        if (style.overflowX === "visible" && style.overflow === "visible") {
          continue;
        }
        const frame = up.getBoundingClientRect();
        if (box.right > frame.right + 0.5 || box.left < frame.left - 0.5) {
          cut.add(`"${label}"${where}: outside its row`);
          break;
        }
      }
    }
  };
  measure("");
  // Inline show-cards: open each, measure what it holds, close it again.
  const toggles = [...host.querySelectorAll("button[aria-expanded]")];
  for (const toggle of toggles) {
    toggle.click();
    measure(` (in "${toggle.innerText}")`);
    toggle.click();
  }
  return { errors, cut: [...cut], titles };
};
window.cardBox = () => {
  const box = document.getElementById("frame").getBoundingClientRect();
  return { x: box.x, y: box.y, width: box.width, height: box.height };
};
