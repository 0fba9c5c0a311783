// The console's script: drag and drop with an upload progress bar, and the statistics charts (ECharts,
// served from /static/vendor). Every page works without it: the form posts, the tables are there.
"use strict";
(function () {
  const form = document.getElementById("upload-form");
  if (form) {
    const zone = document.getElementById("drop-zone");
    const input = document.getElementById("file");
    ["dragenter", "dragover"].forEach((name) => zone.addEventListener(name, (event) => {
      event.preventDefault(); zone.classList.add("over");
    }));
    ["dragleave", "drop"].forEach((name) => zone.addEventListener(name, () => zone.classList.remove("over")));
    zone.addEventListener("drop", (event) => {
      event.preventDefault();
      if (event.dataTransfer && event.dataTransfer.files.length) { input.files = event.dataTransfer.files; }
    });
    form.addEventListener("submit", (event) => {
      if (!window.XMLHttpRequest || !input.files.length) { return; }
      event.preventDefault();
      const box = document.getElementById("progress");
      const bar = document.getElementById("progress-bar");
      const label = box.querySelector("label");
      box.hidden = false;
      const request = new XMLHttpRequest();
      request.open("POST", form.action);
      request.upload.addEventListener("progress", (e) => {
        if (e.lengthComputable) { bar.value = Math.round((100 * e.loaded) / e.total); }
      });
      request.upload.addEventListener("load", () => { bar.removeAttribute("value"); label.textContent = label.dataset.checking; });
      request.addEventListener("load", () => {
        // Redirected to the batch's page (303): go there; a refusal's page replaces this one.
        if (request.status === 200 && request.responseURL && request.responseURL !== form.action) {
          window.location.assign(request.responseURL);
        } else {
          document.open(); document.write(request.responseText); document.close();
        }
      });
      request.addEventListener("error", () => form.submit());
      request.send(new FormData(form));
    });
  }
  const data = document.getElementById("chart-data");
  if (data && window.echarts) {
    const charts = JSON.parse(data.textContent);
    document.querySelectorAll("[data-chart]").forEach((el) => {
      const spec = charts[el.dataset.chart];
      if (!spec) { return; }
      const chart = window.echarts.init(el, null, { renderer: "svg" });
      const option = spec.type === "pie"
        ? { tooltip: {}, series: [{ type: "pie", radius: "65%", data: spec.x.map((name, i) => ({ name, value: spec.series[0].data[i] })) }] }
        : {
          tooltip: { trigger: "axis" }, legend: {}, grid: { containLabel: true, left: 8, right: 8 },
          xAxis: { type: "category", data: spec.x, axisLabel: { interval: 0, rotate: spec.x.length > 6 ? 30 : 0 } },
          yAxis: { type: "value" },
          series: spec.series.map((s) => ({ name: s.name, type: spec.type, data: s.data })),
        };
      chart.setOption(option);
      window.addEventListener("resize", () => chart.resize());
    });
  }
}());
