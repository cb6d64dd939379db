import type * as obsidian from 'obsidian';

/**
 * Obsidian's `Platform`: desktop on Linux by default. Tests switch it (it is mutable here, not in
 * Obsidian) to see the plugin on a phone: `setMobile(true)`.
 */
export const Platform: typeof obsidian.Platform = {
  isDesktop: true,
  isMobile: false,
  isDesktopApp: true,
  isMobileApp: false,
  isIosApp: false,
  isAndroidApp: false,
  isPhone: false,
  isTablet: false,
  isMacOS: false,
  isWin: false,
  isLinux: true,
  isSafari: false,
  resourcePathPrefix: 'app://local/',
};

/** Fake-only: the platform of a phone (true) or of the desktop app (false). */
export function setMobile(mobile: boolean): void {
  Object.assign(Platform, {
    isDesktop: !mobile,
    isMobile: mobile,
    isDesktopApp: !mobile,
    isMobileApp: mobile,
    isAndroidApp: mobile,
    isPhone: mobile,
    isLinux: !mobile,
  });
}
