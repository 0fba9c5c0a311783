"""The operators' console (业务管理台): the credit office's and the providers' daily pages, the statistics and
the 考核通报 (docs/console.md)."""
