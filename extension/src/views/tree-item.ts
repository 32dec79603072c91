import * as vscode from 'vscode';

/** What a tree row shows, as the view models describe it (they need no vscode import). */
export interface RowView {
  label: string;
  description?: string;
  tooltip: string;
  /** A codicon id. */
  icon: string;
  contextValue: string;
  /** none: a leaf; expanded: may have children, shown open. */
  collapsible?: 'none' | 'expanded';
}

/** The one place a row view becomes a vscode.TreeItem, for every Portway tree. */
export function treeItemOf(view: RowView, id: string): vscode.TreeItem {
  const item = new vscode.TreeItem(
    view.label,
    view.collapsible === 'expanded' ? vscode.TreeItemCollapsibleState.Expanded : vscode.TreeItemCollapsibleState.None,
  );
  item.id = id;
  item.description = view.description;
  item.tooltip = view.tooltip;
  item.contextValue = view.contextValue;
  item.iconPath = new vscode.ThemeIcon(view.icon);
  return item;
}
