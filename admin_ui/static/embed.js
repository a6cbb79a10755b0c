/* Embeds a Tidepool hosted form in a client's page. Include it where the form goes:

     <script src="https://tidepool.example/f/acme/signup/embed.js"
             data-params="source=website&activity=spring-sale" data-lang="en" async></script>

   It puts an iframe of the form page right after itself, with data-params (and the script's
   own query) as the page's query (they fill the form's hidden fields), and sizes the iframe
   to the height the form page reports. The client's origin must be listed in the form's
   `embed: {origins: [...]}`, else the browser refuses to show the frame. */
(function () {
  "use strict";

  var HEIGHT_MESSAGE = "tidepool:form-height";
  var MAX_HEIGHT = 20000;
  var script = document.currentScript;
  if (!script || !script.src) return;

  var source = new URL(script.src, document.baseURI);
  var origin = source.origin; // the only sender whose height messages count
  var page = new URL(source.pathname.replace(/\/embed\.js$/, ""), origin);
  var params = new URLSearchParams(script.getAttribute("data-params") || "");
  source.searchParams.forEach(function (value, key) {
    if (!params.has(key)) params.append(key, value);
  });
  var lang = script.getAttribute("data-lang");
  if (lang) params.set("lang", lang);
  page.search = params.toString();

  var frame = document.createElement("iframe");
  frame.src = page.href;
  frame.title = script.getAttribute("data-title") || "Form";
  frame.setAttribute("scrolling", "no");
  frame.style.cssText =
    "display:block;width:100%;max-width:100%;border:0;overflow:hidden;height:" +
    (parseInt(script.getAttribute("data-height"), 10) || 640) + "px";
  script.parentNode.insertBefore(frame, script.nextSibling);

  window.addEventListener("message", function (event) {
    if (event.origin !== origin || event.source !== frame.contentWindow) return;
    var data = event.data;
    if (!data || data.type !== HEIGHT_MESSAGE) return;
    var height = Number(data.height);
    if (!(height > 0 && height < MAX_HEIGHT)) return;
    frame.style.height = Math.ceil(height) + "px";
    // after submitting, show the thank-you message rather than where the button was
    if (data.page === "thanks" && frame.getBoundingClientRect().top < 0) frame.scrollIntoView();
  });
})();
