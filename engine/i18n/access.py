"""What each permission (and record action) is called in a refusal people read."""

from __future__ import annotations

MESSAGES: dict[str, dict[str, str]] = {
    "permission.see": {"en": "see this record", "zh-CN": "查看此记录"},
    "permission.edit": {"en": "change this record", "zh-CN": "修改此记录"},
    "permission.delete": {"en": "delete this record", "zh-CN": "删除此记录"},
    "permission.assign": {"en": "assign records by hand", "zh-CN": "手动分配记录"},
    "permission.configure": {"en": "change the configuration", "zh-CN": "修改配置"},
    "permission.manage_users": {"en": "manage users", "zh-CN": "管理用户"},
    "permission.export": {"en": "export records", "zh-CN": "导出记录"},
    "permission.see_all_stats": {"en": "see everyone's figures", "zh-CN": "查看全部统计"},
    "permission.import": {"en": "import records", "zh-CN": "导入记录"},
    "permission.import_history": {
        "en": "import owners, creators and dates",
        "zh-CN": "导入负责人、创建人和日期",
    },
    "permission.merge": {"en": "merge records", "zh-CN": "合并记录"},
    "permission.bulk": {"en": "change many records at once", "zh-CN": "批量修改记录"},
}
